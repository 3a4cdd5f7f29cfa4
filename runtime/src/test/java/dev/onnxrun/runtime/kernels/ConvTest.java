package dev.onnxrun.runtime.kernels;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.onnxrun.runtime.ExecContext;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The threaded paths of the convolution and pooling kernels give the serial results. */
class ConvTest {
    private static Conv.Params params(long group, long... pads) {
        return new Conv.Params(null, new long[] {1, 1}, null, pads, Windows.AutoPad.NOTSET, group, null, null);
    }

    @Test
    void threadedMatchesSerial() {
        Random r = new Random(14);
        Tensor x = RandomTensors.uniform(r, 2, 16, 40, 40);
        try (Parallel par = new Parallel(3)) {
            Tensor w = RandomTensors.uniform(r, 24, 8, 3, 3), b = RandomTensors.uniform(r, 24);
            Conv.Params grouped = params(2, 1, 1, 1, 1);
            assertArrayEquals(Conv.conv(x, w, b, grouped, Parallel.SERIAL).toFloatArray(), Conv.conv(x, w, b, grouped, par).toFloatArray());
            Tensor dw = RandomTensors.uniform(r, 16, 1, 3, 3);
            Conv.Params depthwise = params(16, 1, 1, 1, 1);
            assertArrayEquals(Conv.conv(x, dw, null, depthwise, Parallel.SERIAL).toFloatArray(), Conv.conv(x, dw, null, depthwise, par).toFloatArray());
            Tensor wt = RandomTensors.uniform(r, 16, 4, 2, 2);
            Conv.Params transposed = params(1, 0, 0, 0, 0);
            assertArrayEquals(Conv.convTranspose(x, wt, null, transposed, Parallel.SERIAL).toFloatArray(),
                    Conv.convTranspose(x, wt, null, transposed, par).toFloatArray());
            Pooling.Params pool = new Pooling.Params(new long[] {3, 3}, new long[] {2, 2}, null, new long[] {1, 1, 1, 1},
                    Windows.AutoPad.NOTSET, true, false, 2, false);
            for (Pooling.Kind kind : Pooling.Kind.values()) {
                assertArrayEquals(Pooling.pool(x, kind, pool, false, ExecContext.singleThreaded())[0].toFloatArray(),
                        Pooling.pool(x, kind, pool, false, ArenaSlices.context(par))[0].toFloatArray());
            }
        }
    }
}
