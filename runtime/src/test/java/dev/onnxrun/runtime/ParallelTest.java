package dev.onnxrun.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class ParallelTest {
    @Test
    void everyIndexRunsOnceWithAndWithoutARun() {
        try (Parallel pool = new Parallel(3)) {
            for (boolean inRun : new boolean[] {false, true}) {
                AtomicIntegerArray seen = new AtomicIntegerArray(1000);
                try (Parallel.Running running = inRun ? pool.running() : null) {
                    pool.forRange(1000, (from, to) -> {
                        for (long i = from; i < to; i++) seen.incrementAndGet((int) i);
                    });
                }
                for (int i = 0; i < 1000; i++) assertEquals(1, seen.get(i), "index " + i + (inRun ? " in a run" : ""));
            }
        }
    }

    @Test
    void forEachTaskCallsTheBodyOncePerIndex() {
        try (Parallel pool = new Parallel(2)) {
            AtomicIntegerArray seen = new AtomicIntegerArray(37);
            pool.forEachTask(37, (from, to) -> {
                assertEquals(from + 1, to, "one index per call");
                seen.incrementAndGet((int) from);
            });
            for (int i = 0; i < 37; i++) assertEquals(1, seen.get(i), "task " + i);
        }
    }

    @Test
    void segmentsCoverTheChunksEvenly() {
        for (int threads = 1; threads <= 5; threads++) {
            for (int chunks = 1; chunks <= 40; chunks++) {
                assertEquals(0, Parallel.segmentStart(0, chunks, threads));
                assertEquals(chunks, Parallel.segmentStart(threads, chunks, threads));
                for (int s = 0; s < threads; s++) {
                    int size = Parallel.segmentStart(s + 1, chunks, threads) - Parallel.segmentStart(s, chunks, threads);
                    assertTrue(size == chunks / threads || size == chunks / threads + 1 && s < chunks % threads,
                            "segment " + s + " of " + chunks + " chunks, " + threads + " threads: " + size);
                }
            }
        }
    }

    /** The caller runs the first segment from its front, then the worker's from the back; the worker starts its own at the front. */
    @Test
    void eachThreadStartsOnItsOwnSegment() {
        try (Parallel pool = new Parallel(2); Parallel.Running running = pool.running()) {
            Thread caller = Thread.currentThread();
            java.util.List<Long> callers = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.List<Long> workers = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            pool.forRange(8, (from, to) -> {
                (Thread.currentThread() == caller ? callers : workers).add(from);
                try {
                    Thread.sleep(5);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            assertEquals(java.util.List.of(0L, 1L, 2L, 3L), callers.subList(0, 4), "the caller's chunks, in order: " + callers);
            for (int i = 4; i < callers.size(); i++) assertEquals(7L - (i - 4), callers.get(i), "taken from the back: " + callers);
            for (int i = 0; i < workers.size(); i++) assertEquals(4L + i, workers.get(i), "the worker's: " + workers);
            assertEquals(8, callers.size() + workers.size());
        }
    }

    @Test
    void aChunkFailureReachesTheCaller() {
        try (Parallel pool = new Parallel(2)) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> pool.forRange(8, (from, to) -> {
                if (from <= 5 && 5 < to) throw new IllegalStateException("chunk with 5");
            }));
            assertEquals("chunk with 5", e.getMessage());
        }
    }

    @Test
    void workersSpinDuringARunAndParkAfterIt() throws InterruptedException {
        try (Parallel pool = new Parallel(2)) {
            Thread worker = workerOf(pool);
            Parallel.Running running = pool.running();
            Thread.sleep(50); // far longer than the idle spin: outside a run the worker would have parked
            assertEquals(Thread.State.RUNNABLE, worker.getState(), "worker during a run");
            running.close();
            running.close(); // a second close ends nothing more
            awaitState(worker, Thread.State.WAITING);
            assertEquals(Thread.State.WAITING, worker.getState(), "worker after the run");
        }
    }

    /** The pool's one worker, caught running a chunk that waits until a second thread arrives. */
    private static Thread workerOf(Parallel pool) throws InterruptedException {
        Thread caller = Thread.currentThread();
        AtomicReference<Thread> worker = new AtomicReference<>();
        for (int attempt = 0; attempt < 100 && worker.get() == null; attempt++) {
            pool.forRange(2, (from, to) -> {
                if (Thread.currentThread() != caller) worker.set(Thread.currentThread());
                long until = System.nanoTime() + 20_000_000;
                while (worker.get() == null && System.nanoTime() < until) Thread.onSpinWait();
            });
        }
        assertNotNull(worker.get(), "no chunk ran on a worker");
        return worker.get();
    }

    private static void awaitState(Thread t, Thread.State state) throws InterruptedException {
        for (int i = 0; i < 500 && t.getState() != state; i++) Thread.sleep(10); // up to 5 s on a loaded machine
    }
}
