package dev.onnxrun.runtime;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The one place kernels get parallelism from: {@link #forRange} splits an index range across
 * the calling thread and a fixed pool of {@code threads - 1} workers. Kernels receive ranges and
 * never create threads.
 */
public final class Parallel implements AutoCloseable {
    public static final Parallel SERIAL = new Parallel(1);

    private final int threads;
    private final ForkJoinPool pool;

    public Parallel(int threads) {
        if (threads < 1) throw new IllegalArgumentException("threads must be at least 1, got " + threads);
        this.threads = threads;
        this.pool = threads == 1 ? null : new ForkJoinPool(threads - 1);
    }

    public int threads() { return threads; }

    /** A body over the half-open index range [from, to). */
    @FunctionalInterface
    public interface RangeBody {
        void run(long from, long to);
    }

    /**
     * Runs {@code body} over [0, n), split into at most {@link #threads()} chunks. Chunks are
     * claimed one at a time by the calling thread and by the workers as they wake, so the caller
     * never waits for a worker to wake up (about 10 µs on a busy 2-core machine; it would be 15 µs
     * or more if it handed every chunk to the pool and slept): it waits only for chunks a worker has
     * started. A failure in any chunk is rethrown in the caller.
     */
    public void forRange(long n, RangeBody body) {
        forRange(n, 1, body);
    }

    /**
     * {@link #forRange(long, RangeBody)} in up to {@code chunksPerThread} chunks per thread. For
     * bodies without per-chunk setup, smaller chunks balance better: a worker that is descheduled
     * (on a shared machine) or wakes late holds back only a small chunk.
     */
    public void forRange(long n, int chunksPerThread, RangeBody body) {
        if (n <= 0) return;
        if (pool == null || n == 1) {
            body.run(0, n);
            return;
        }
        Job job = new Job(n, (int) Math.min((long) threads * chunksPerThread, n), body);
        for (int w = 1; w < Math.min(threads, job.chunks); w++) pool.execute(job::runChunks);
        job.runChunks();
        job.awaitAll();
    }

    /** One forRange call: its chunks, which claims them next, and how many are finished. */
    private static final class Job {
        /** Busy-wait rounds before the caller parks: a started chunk usually ends within them. */
        private static final int SPINS = 1 << 14;

        final long n;
        final int chunks;
        final RangeBody body;
        final Thread caller = Thread.currentThread();
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger finished = new AtomicInteger();
        volatile Throwable failure;

        Job(long n, int chunks, RangeBody body) {
            this.n = n;
            this.chunks = chunks;
            this.body = body;
        }

        void runChunks() {
            for (int c; (c = next.getAndIncrement()) < chunks; ) {
                try {
                    if (failure == null) body.run(n * c / chunks, n * (c + 1) / chunks);
                } catch (Throwable t) {
                    failure = t;
                } finally {
                    if (finished.incrementAndGet() == chunks && Thread.currentThread() != caller) LockSupport.unpark(caller);
                }
            }
        }

        void awaitAll() {
            for (int spin = 0; finished.get() < chunks; spin++) {
                if (spin < SPINS) Thread.onSpinWait();
                else LockSupport.parkNanos(this, 100_000);
            }
            Throwable t = failure;
            if (t instanceof RuntimeException e) throw e;
            if (t instanceof Error e) throw e;
            if (t != null) throw new IllegalStateException(t);
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdown();
    }
}
