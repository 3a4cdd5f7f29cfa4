package dev.onnxrun.runtime;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;

/**
 * The one place kernels get parallelism from: {@link #forRange} splits an index range across
 * a fixed set of threads ({@link #forEachTask} hands out its indices one by one). Kernels
 * receive ranges and never create threads.
 *
 * <p>The calling thread works too: it publishes the range, takes chunks itself alongside
 * {@code threads - 1} resident workers, and waits only for chunks already under way. A range
 * is cut into a few chunks per thread and into one segment per thread: each thread runs its own
 * segment's chunks from the front, then takes other segments' chunks from their back
 * ({@link Range#take}). On a shared machine a worker that starts late then costs at most a
 * chunk, not a whole share; the threads' current chunks lie apart ({@link #segmentStart}); and
 * a thread keeps the same share of every range, so where consecutive kernels split their work
 * alike (the blocked convolutions by output pixels) it reads what it wrote itself, from its own
 * cache. While a model runs
 * ({@link #running}) workers spin between ranges instead of parking: waking a parked thread
 * costs tens of microseconds, and a kernel's serial part (a 1×1 stride-2 convolution's input
 * gather, 22 µs) was enough for the worker to park and join the next range late. Outside runs
 * they spin briefly before parking; longer idle spins measured worse on a loaded machine,
 * where spinning threads lose their turn to run. A range started
 * while another is running (nested, or from a second session sharing the pool) runs on its
 * caller alone.
 */
public final class Parallel implements AutoCloseable {
    public static final Parallel SERIAL = new Parallel(1);

    /** Chunks per thread a range is cut into. */
    private static final int CHUNKS_PER_THREAD = 4;
    /** How long an idle thread polls for work before parking. */
    private static final long SPIN_NANOS = 20_000;

    private final int threads;
    private final Thread[] workers;
    /** Held while a range is being run: a range started meanwhile runs serially on its caller. */
    private final AtomicBoolean busy = new AtomicBoolean();
    /** Runs under way ({@link #running}): while any is, idle workers spin instead of parking. */
    private final AtomicInteger runs = new AtomicInteger();
    /** The latest range; workers look for a new one by identity. */
    private volatile Range current;
    private volatile boolean closed;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        workers = new Thread[threads - 1];
        for (int i = 0; i < workers.length; i++) {
            int self = i + 1;
            workers[i] = Thread.ofPlatform().daemon().name("onnxrun-worker-" + i).unstarted(() -> work(self));
            workers[i].start();
        }
    }

    public int threads() { return threads; }

    /** A body over the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(long from, long to);
    }

    /** One published range: each thread runs its own segment's chunks, then helps with the others'. */
    private static final class Range {
        final RangeBody body;
        final long n;
        final int chunks, threads;
        final Thread caller;
        /** Per segment, the chunks not yet taken: [front, back) packed as front·2³² + back. */
        final AtomicLongArray left;
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;
        volatile boolean callerParked;

        Range(RangeBody body, long n, int chunks, int threads, Thread caller) {
            this.body = body;
            this.n = n;
            this.chunks = chunks;
            this.threads = threads;
            this.caller = caller;
            left = new AtomicLongArray(threads);
            for (int s = 0; s < threads; s++) left.set(s, (long) segmentStart(s, chunks, threads) << 32 | segmentStart(s + 1, chunks, threads));
        }

        /** Runs chunks, its own segment's first ({@code self}: 0 for the caller, i + 1 for worker i), until none is left; wakes the caller after the last. */
        void runChunks(int self) {
            for (int c; (c = take(self)) >= 0; ) {
                try {
                    body.run(n * c / chunks, n * (c + 1) / chunks);
                } catch (Throwable t) {
                    failure = t;
                }
                if (done.incrementAndGet() == chunks && callerParked) LockSupport.unpark(caller);
            }
        }

        /** The next chunk of segment {@code self} from its front, else one from another segment's back; −1 when all are taken. */
        int take(int self) {
            for (int i = 0; i < threads; i++) {
                int segment = (self + i) % threads;
                for (long range; ; ) {
                    range = left.get(segment);
                    int front = (int) (range >>> 32), back = (int) range;
                    if (front >= back) break;
                    long taken = i == 0 ? (long) (front + 1) << 32 | back : (long) front << 32 | back - 1;
                    if (left.compareAndSet(segment, range, taken)) return i == 0 ? front : back - 1;
                }
            }
            return -1;
        }
    }

    /**
     * The first chunk of segment {@code s} when {@code chunks} are cut into {@code threads}
     * segments, as even as they can be, the longer ones first. The threads start far apart, not
     * on neighbouring chunks: those share the cache lines at their border (a kernel's output rows
     * split between two column panels share a line wherever the border is not line-aligned), and
     * two threads writing one line at once pass it back and forth. Measured at two threads when
     * chunks went out in order: the encoder's 128×256×256 product 62 µs, 58 from two segments
     * (81 at one thread), 128×256×1024 198 and 174 µs (317); the whole encoder 1.26–1.27 → 1.16
     * × ONNX Runtime.
     */
    static int segmentStart(int s, int chunks, int threads) {
        int perSegment = chunks / threads, longer = chunks % threads;
        return s * perSegment + Math.min(s, longer);
    }

    /**
     * Marks a model run under way until the returned handle is closed, so that idle workers
     * spin rather than park between its kernels' ranges. Wakes parked workers as it begins,
     * so they are spinning by the first range. Runs may overlap.
     */
    public Running running() {
        if (runs.getAndIncrement() == 0) for (Thread w : workers) LockSupport.unpark(w);
        return new Running();
    }

    /** A run under way ({@link #running}); closing it ends it (once). */
    public final class Running implements AutoCloseable {
        private boolean ended;

        private Running() {}

        @Override
        public void close() {
            if (ended) return;
            ended = true;
            runs.decrementAndGet();
        }
    }

    /** Runs {@code body} over [0, n), split into at most {@code 4·threads()} chunks (one call of body each). */
    public void forRange(long n, RangeBody body) {
        run(n, (int) Math.min((long) CHUNKS_PER_THREAD * threads, n), body);
    }

    /**
     * Runs {@code body} over [0, n), each index its own chunk: for a few dozen coarse tasks of
     * uneven cost, where the last chunk's wait matters more than handing tasks out one by one.
     * (Squeezenet's convolutions, 2 threads: the caller waited 120–150 µs of a 1 ms convolution
     * for the worker's last chunk of four tasks.)
     */
    public void forEachTask(int n, RangeBody body) {
        run(n, n, body);
    }

    private void run(long n, int chunks, RangeBody body) {
        if (n <= 0) return;
        if (workers.length == 0 || n == 1 || !busy.compareAndSet(false, true)) {
            body.run(0, n);
            return;
        }
        try {
            Range range = new Range(body, n, chunks, threads, Thread.currentThread());
            current = range;
            for (Thread w : workers) LockSupport.unpark(w);
            range.runChunks(0);
            awaitChunks(range);
            Throwable failure = range.failure;
            if (failure instanceof RuntimeException e) throw e;
            if (failure instanceof Error e) throw e;
            if (failure != null) throw new IllegalStateException(failure);
        } finally {
            busy.set(false);
        }
    }

    private static void awaitChunks(Range range) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (range.done.get() < range.chunks) {
            if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
                continue;
            }
            range.callerParked = true;
            if (range.done.get() < range.chunks) LockSupport.park(range);
        }
    }

    /** A worker's life ({@code self}: its segment of every range): wait for a range it has not seen, help run it, repeat. */
    private void work(int self) {
        Range seen = null;
        while (!closed) {
            Range range = current;
            if (range == seen) {
                idle(seen);
                continue;
            }
            seen = range;
            range.runChunks(self);
        }
    }

    /**
     * Spins, then parks, until a range other than {@code seen} is published or the pool closes;
     * spins on while a run is under way, and for a moment after.
     */
    private void idle(Range seen) {
        long spinUntil = System.nanoTime() + SPIN_NANOS;
        while (current == seen && !closed) {
            if (runs.get() > 0) {
                spinUntil = System.nanoTime() + SPIN_NANOS;
                Thread.onSpinWait();
            } else if (System.nanoTime() < spinUntil) {
                Thread.onSpinWait();
            } else {
                LockSupport.park(this);
            }
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Thread w : workers) LockSupport.unpark(w);
    }
}
