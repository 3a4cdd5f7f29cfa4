package dev.onnxrun.compiler.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.onnxrun.CompiledModel;
import dev.onnxrun.Session;
import dev.onnxrun.compiler.ir.Attribute;
import dev.onnxrun.compiler.ir.Dim;
import dev.onnxrun.compiler.ir.Model;
import dev.onnxrun.compiler.ir.Node;
import dev.onnxrun.compiler.ir.ValueType;
import dev.onnxrun.compiler.ir.ValueType.TensorType;
import dev.onnxrun.runtime.DType;
import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.OptionalValue;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.TensorSequence;
import dev.onnxrun.runtime.Value;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TensorOpsTest {
    private static Tensor iota(long... shape) {
        int n = (int) Arrays.stream(shape).reduce(1, (a, b) -> a * b);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = i;
        return Tensor.of(v, shape);
    }

    private static Tensor longs(long... v) { return Tensor.of(v, v.length); }

    // ---- Identity ----

    @Test
    void identityReturnsItsInput() {
        Tensor x = Tensor.of(new float[] {1, -2, 3}, 3);
        assertArrayEquals(new float[] {1, -2, 3}, SingleOp.of("Identity").inputs(x).run1().toFloatArray());
    }

    @Test
    void identityPassesSequencesAndOptionals() {
        TensorSequence seq = new TensorSequence(DType.FLOAT, List.of(iota(2)));
        assertSame(seq, SingleOp.of("Identity").inputs(seq).runValues()[0]);
        OptionalValue opt = new OptionalValue(iota(3));
        assertSame(opt, SingleOp.of("Identity").inputs(opt).runValues()[0]);
    }

    // ---- Reshape family ----

    @Test
    void reshapeCopiesZerosAndInfersMinusOne() {
        Tensor y = SingleOp.of("Reshape").inputs(iota(2, 3, 4), longs(0, -1)).run1();
        assertArrayEquals(new long[] {2, 12}, y.shape());
        assertArrayEquals(iota(24).toFloatArray(), y.toFloatArray());
    }

    @Test
    void reshapeWithAllowZeroKeepsZero() {
        Tensor empty = Tensor.allocate(DType.FLOAT, 0, 3);
        Tensor y = SingleOp.of("Reshape").attr("allowzero", 1L).inputs(empty, longs(3, 0)).run1();
        assertArrayEquals(new long[] {3, 0}, y.shape());
        assertThrows(OnnxrunException.class, () -> SingleOp.of("Reshape").inputs(iota(6), longs(4, -1)).run1());
    }

    @Test
    void reshapeOpset1ReadsTheAttribute() {
        Tensor y = SingleOp.of("Reshape").opset(1).attr("shape", 3L, 2L).inputs(iota(6)).run1();
        assertArrayEquals(new long[] {3, 2}, y.shape());
    }

    @Test
    void flattenWithNegativeAxis() {
        assertArrayEquals(new long[] {6, 4}, SingleOp.of("Flatten").attr("axis", -1L).inputs(iota(2, 3, 4)).run1().shape());
        assertArrayEquals(new long[] {1, 24}, SingleOp.of("Flatten").attr("axis", 0L).inputs(iota(2, 3, 4)).run1().shape());
    }

    @Test
    void squeezeAndUnsqueezeWithNegativeAxes() {
        Tensor x = iota(1, 3, 1);
        assertArrayEquals(new long[] {1, 3}, SingleOp.of("Squeeze").inputs(x, longs(-1)).run1().shape());
        assertArrayEquals(new long[] {3}, SingleOp.of("Squeeze").inputs(x).run1().shape());
        assertArrayEquals(new long[] {3}, SingleOp.of("Squeeze").opset(11).attr("axes", 0L, 2L).inputs(x).run1().shape());
        assertThrows(OnnxrunException.class, () -> SingleOp.of("Squeeze").inputs(x, longs(1)).run1());
        assertArrayEquals(new long[] {1, 3, 1, 1}, SingleOp.of("Unsqueeze").inputs(iota(1, 3), longs(-1, 2)).run1().shape());
        assertArrayEquals(new long[] {3, 1}, SingleOp.of("Unsqueeze").opset(11).attr("axes", -1L).inputs(iota(3)).run1().shape());
    }

    @Test
    void shapeWithStartAndEnd() {
        Tensor x = iota(2, 3, 4, 5);
        assertArrayEquals(new long[] {2, 3, 4, 5}, SingleOp.of("Shape").inputs(x).run1().toLongArray());
        assertArrayEquals(new long[] {3, 4}, SingleOp.of("Shape").attr("start", 1L).attr("end", -1L).inputs(x).run1().toLongArray());
        assertArrayEquals(new long[] {}, SingleOp.of("Shape").attr("start", 10L).inputs(x).run1().toLongArray());
        assertEquals(120, SingleOp.of("Size").inputs(x).run1().getLong(0));
    }

    // ---- Layout ----

    @Test
    void transposeStringsDefaultsToReversedAxes() {
        Tensor x = Tensor.ofStrings(new String[] {"a", "b", "c", "d", "e", "f"}, 2, 3);
        Tensor y = SingleOp.of("Transpose").inputs(x).run1();
        assertArrayEquals(new long[] {3, 2}, y.shape());
        assertArrayEquals(new String[] {"a", "d", "b", "e", "c", "f"}, y.toStringArray());
    }

    @Test
    void concatNegativeAxisWithEmptyInput() {
        Tensor a = Tensor.of(new int[] {1, 2, 3, 4}, 2, 2);
        Tensor empty = Tensor.allocate(DType.INT32, 2, 0);
        Tensor b = Tensor.of(new int[] {5, 6}, 2, 1);
        Tensor y = SingleOp.of("Concat").attr("axis", -1L).inputs(a, empty, b).run1();
        assertArrayEquals(new long[] {2, 3}, y.shape());
        assertArrayEquals(new int[] {1, 2, 5, 3, 4, 6}, y.toIntArray());
    }

    @Test
    void splitEvenUnevenAndBySizes() {
        Tensor[] parts = SingleOp.of("Split").outputs(3).attr("axis", -1L).attr("num_outputs", 3L).opset(18).inputs(iota(7)).run();
        assertArrayEquals(new long[] {3}, parts[0].shape());
        assertArrayEquals(new long[] {1}, parts[2].shape());
        Tensor[] sized = SingleOp.of("Split").outputs(2).inputs(iota(2, 3), longs(1, 2)).attr("axis", 1L).run();
        assertArrayEquals(new float[] {0, 3}, sized[0].toFloatArray());
        assertArrayEquals(new float[] {1, 2, 4, 5}, sized[1].toFloatArray());
        assertThrows(OnnxrunException.class, () -> SingleOp.of("Split").opset(13).outputs(2).inputs(iota(3)).run());
    }

    @Test
    void sliceNegativeStepsClampingAndAxes() {
        Tensor x = iota(10);
        Tensor rev = SingleOp.of("Slice").inputs(x, longs(-1), longs(Long.MIN_VALUE), longs(0), longs(-3)).run1();
        assertArrayEquals(new float[] {9, 6, 3, 0}, rev.toFloatArray());
        Tensor clamped = SingleOp.of("Slice").inputs(x, longs(-100), longs(Long.MAX_VALUE)).run1();
        assertEquals(10, clamped.size());
        Tensor empty = SingleOp.of("Slice").inputs(x, longs(5), longs(2)).run1();
        assertArrayEquals(new long[] {0}, empty.shape());
        Tensor cols = SingleOp.of("Slice").inputs(iota(2, 4), longs(1), longs(3), longs(-1)).run1();
        assertArrayEquals(new float[] {1, 2, 5, 6}, cols.toFloatArray());
        Tensor old = SingleOp.of("Slice").opset(9).attr("starts", 1L).attr("ends", 3L).inputs(x).run1();
        assertArrayEquals(new float[] {1, 2}, old.toFloatArray());
    }

    @Test
    void expandAndTile() {
        Tensor x = Tensor.of(new long[] {1, 2}, 2, 1);
        Tensor e = SingleOp.of("Expand").inputs(x, longs(2, 3)).run1();
        assertArrayEquals(new long[] {1, 1, 1, 2, 2, 2}, e.toLongArray());
        Tensor t = SingleOp.of("Tile").inputs(x, longs(2, 2)).run1();
        assertArrayEquals(new long[] {4, 2}, t.shape());
        assertArrayEquals(new long[] {1, 1, 2, 2, 1, 1, 2, 2}, t.toLongArray());
    }

    @Test
    void padModes() {
        Tensor x = Tensor.of(new int[] {1, 2, 3}, 3);
        long[] pads = {2, 2};
        assertArrayEquals(new int[] {9, 9, 1, 2, 3, 9, 9},
                SingleOp.of("Pad").inputs(x, longs(pads), Tensor.of(new int[] {9})).run1().toIntArray());
        assertArrayEquals(new int[] {3, 2, 1, 2, 3, 2, 1},
                SingleOp.of("Pad").attr("mode", "reflect").inputs(x, longs(pads)).run1().toIntArray());
        assertArrayEquals(new int[] {1, 1, 1, 2, 3, 3, 3},
                SingleOp.of("Pad").attr("mode", "edge").inputs(x, longs(pads)).run1().toIntArray());
        assertArrayEquals(new int[] {2, 3, 1, 2, 3, 1, 2},
                SingleOp.of("Pad").attr("mode", "wrap").inputs(x, longs(pads)).run1().toIntArray());
        assertArrayEquals(new int[] {2},
                SingleOp.of("Pad").inputs(x, longs(-1, -1)).run1().toIntArray());
        Tensor s = Tensor.ofStrings(new String[] {"a"}, 1);
        assertArrayEquals(new String[] {"-", "a"},
                SingleOp.of("Pad").inputs(s, longs(1, 0), Tensor.ofStrings(new String[] {"-"})).run1().toStringArray());
        Tensor m = SingleOp.of("Pad").opset(18).inputs(iota(2, 2), longs(1, 0), null, longs(-1)).run1();
        assertArrayEquals(new float[] {0, 0, 1, 0, 2, 3}, m.toFloatArray());
        Tensor old = SingleOp.of("Pad").opset(2).attr("pads", 1L, 0L).attr("value", 7f).inputs(x).run1();
        assertArrayEquals(new int[] {7, 1, 2, 3}, old.toIntArray());
    }

    @Test
    void depthToSpaceRoundTrip() {
        Tensor x = iota(1, 8, 2, 3);
        for (String mode : new String[] {"DCR", "CRD"}) {
            Tensor d = SingleOp.of("DepthToSpace").attr("blocksize", 2L).attr("mode", mode).inputs(x).run1();
            assertArrayEquals(new long[] {1, 2, 4, 6}, d.shape());
            if (mode.equals("DCR")) {
                Tensor back = SingleOp.of("SpaceToDepth").attr("blocksize", 2L).inputs(d).run1();
                assertArrayEquals(x.toFloatArray(), back.toFloatArray());
            }
        }
    }

    @Test
    void triluKeepsTriangles() {
        Tensor x = iota(3, 3);
        assertArrayEquals(new float[] {0, 1, 2, 0, 4, 5, 0, 0, 8}, SingleOp.of("Trilu").inputs(x).run1().toFloatArray());
        assertArrayEquals(new float[] {0, 0, 0, 3, 0, 0, 6, 7, 0},
                SingleOp.of("Trilu").attr("upper", 0L).inputs(x, Tensor.scalar(-1L)).run1().toFloatArray());
    }

    @Test
    void reverseSequenceReversesPrefixes() {
        Tensor x = iota(3, 2); // time x batch
        Tensor y = SingleOp.of("ReverseSequence").inputs(x, longs(3, 1)).run1();
        assertArrayEquals(new float[] {4, 1, 2, 3, 0, 5}, y.toFloatArray());
    }

    @Test
    void col2imMatchesTheSpecExample() {
        float[] cols = new float[25];
        for (int k = 0; k < 5; k++) for (int l = 0; l < 5; l++) cols[k * 5 + l] = l * 5 + k + 1;
        Tensor y = SingleOp.of("Col2Im").inputs(Tensor.of(cols, 1, 5, 5), longs(5, 5), longs(1, 5)).run1();
        assertArrayEquals(new long[] {1, 1, 5, 5}, y.shape());
        float[] expected = new float[25];
        for (int i = 0; i < 25; i++) expected[i] = i + 1;
        assertArrayEquals(expected, y.toFloatArray());
    }

    @Test
    void centerCropPadCropsAndPads() {
        Tensor y = SingleOp.of("CenterCropPad").inputs(iota(3, 2), longs(1, 4)).run1();
        assertArrayEquals(new float[] {0, 2, 3, 0}, y.toFloatArray());
    }

    @Test
    void olderOpsetsReadAttributes() {
        Tensor[] split = SingleOp.of("Split").opset(2).outputs(2).attr("split", 1L, 2L).inputs(iota(3)).run();
        assertArrayEquals(new float[] {1, 2}, split[1].toFloatArray());
        Tensor[] splitInput = SingleOp.of("Split").opset(1).outputs(2).inputs(iota(3), longs(2, 1)).run();
        assertArrayEquals(new float[] {0, 1}, splitInput[0].toFloatArray());
        Tensor tiled = SingleOp.of("Tile").opset(1).inputs(iota(2, 1), Tensor.scalar(3L), Tensor.scalar(1L)).run1();
        assertArrayEquals(new long[] {2, 3}, tiled.shape());
        Tensor joined = SingleOp.of("Concat").opset(1).inputs(iota(1, 2), iota(1, 2)).run1();
        assertArrayEquals(new long[] {1, 4}, joined.shape());
        Tensor padded = SingleOp.of("Pad").opset(1).attr("paddings", 0L, 1L, 0L, -1L).inputs(iota(2, 2)).run1();
        assertArrayEquals(new float[] {0, 0, 0, 2}, padded.toFloatArray());
        Value[] dropped = SingleOp.of("Dropout").opset(7).outputs(2).inputs(iota(2)).runValues();
        assertEquals(DType.FLOAT, ((Tensor) dropped[1]).dtype());
        assertArrayEquals(new float[] {1, 1}, ((Tensor) dropped[1]).toFloatArray());
    }

    // ---- Indexing ----

    @Test
    void gatherWrapsNegativeIndicesAndNamesBadOnes() {
        Tensor data = Tensor.ofStrings(new String[] {"a", "b", "c"}, 3);
        Tensor y = SingleOp.of("Gather").inputs(data, longs(-1, 0)).run1();
        assertArrayEquals(new String[] {"c", "a"}, y.toStringArray());
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> SingleOp.of("Gather").inputs(data, longs(3)).run1());
        assertTrue(e.getMessage().contains("index 3"), e.getMessage());
        Tensor none = SingleOp.of("Gather").attr("axis", -1L).inputs(iota(2, 3), Tensor.allocate(DType.INT64, 0)).run1();
        assertArrayEquals(new long[] {2, 0}, none.shape());
    }

    @Test
    void gatherElementsAndScatterElements() {
        Tensor data = iota(2, 2);
        Tensor idx = Tensor.of(new long[] {-1, 0, 1, 1}, 2, 2);
        assertArrayEquals(new float[] {1, 0, 3, 3}, SingleOp.of("GatherElements").attr("axis", 1L).inputs(data, idx).run1().toFloatArray());
        Tensor upd = Tensor.of(new float[] {10, 20, 30, 40}, 2, 2);
        Tensor base = Tensor.of(new float[] {0, 0, 2, 0}, 2, 2);
        assertArrayEquals(new float[] {20, 10, 2, 70}, SingleOp.of("ScatterElements").attr("axis", -1L)
                .attr("reduction", "add").inputs(base, idx, upd).run1().toFloatArray());
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> SingleOp.of("GatherElements")
                .inputs(data, Tensor.of(new long[] {5, 0, 0, 0}, 2, 2)).run1());
        assertTrue(e.getMessage().contains("index 5"), e.getMessage());
    }

    @Test
    void scatterElementsMaxOnInts() {
        Tensor data = Tensor.of(new long[] {1, 5, 3}, 3);
        Tensor y = SingleOp.of("ScatterElements").attr("reduction", "max")
                .inputs(data, longs(0, 1, 0), longs(4, 2, 9)).run1();
        assertArrayEquals(new long[] {9, 5, 3}, y.toLongArray());
    }

    @Test
    void gatherNDWithBatchDimsAndScatterND() {
        Tensor data = iota(2, 2, 2);
        Tensor idx = Tensor.of(new long[] {1, 0}, 2, 1);
        Tensor y = SingleOp.of("GatherND").attr("batch_dims", 1L).inputs(data, idx).run1();
        assertArrayEquals(new long[] {2, 2}, y.shape());
        assertArrayEquals(new float[] {2, 3, 4, 5}, y.toFloatArray());
        Tensor s = SingleOp.of("ScatterND").attr("reduction", "mul")
                .inputs(iota(4), Tensor.of(new long[] {-1, 1}, 2, 1), Tensor.of(new float[] {2, 3}, 2)).run1();
        assertArrayEquals(new float[] {0, 3, 2, 6}, s.toFloatArray());
    }

    @Test
    void compressNonZeroOneHot() {
        Tensor x = Tensor.of(new int[] {0, 7, 0, 8}, 2, 2);
        Tensor nz = SingleOp.of("NonZero").inputs(x).run1();
        assertArrayEquals(new long[] {0, 1, 1, 1}, nz.toLongArray());
        Tensor c = SingleOp.of("Compress").attr("axis", -1L).inputs(x, Tensor.of(new boolean[] {false, true}, 2)).run1();
        assertArrayEquals(new int[] {7, 8}, c.toIntArray());
        Tensor flat = SingleOp.of("Compress").inputs(x, Tensor.of(new boolean[] {true, true}, 2)).run1();
        assertArrayEquals(new int[] {0, 7}, flat.toIntArray());
        Tensor oh = SingleOp.of("OneHot").inputs(longs(0, -1, 5), Tensor.scalar(3L), Tensor.of(new float[] {0, 1}, 2)).run1();
        assertArrayEquals(new float[] {1, 0, 0, 0, 0, 1, 0, 0, 0}, oh.toFloatArray());
    }

    @Test
    void uniqueSortedAndUnsorted() {
        Tensor x = Tensor.of(new long[] {2, 1, 1, 3, 4, 3}, 6);
        Tensor[] s = SingleOp.of("Unique").outputs(4).inputs(x).run();
        assertArrayEquals(new long[] {1, 2, 3, 4}, s[0].toLongArray());
        assertArrayEquals(new long[] {1, 0, 3, 4}, s[1].toLongArray());
        assertArrayEquals(new long[] {1, 0, 0, 2, 3, 2}, s[2].toLongArray());
        assertArrayEquals(new long[] {2, 1, 2, 1}, s[3].toLongArray());
        Tensor[] u = SingleOp.of("Unique").outputs(4).attr("sorted", 0L).inputs(x).run();
        assertArrayEquals(new long[] {2, 1, 3, 4}, u[0].toLongArray());
        assertArrayEquals(new long[] {0, 1, 1, 2, 3, 2}, u[2].toLongArray());
        Tensor strs = Tensor.ofStrings(new String[] {"b", "a", "b"}, 3);
        assertArrayEquals(new String[] {"a", "b"}, SingleOp.of("Unique").inputs(strs).run1().toStringArray());
    }

    // ---- Generators ----

    @Test
    void constantsOfEveryKind() {
        assertArrayEquals(new long[] {1, 2}, SingleOp.of("Constant").attr("value_ints", 1L, 2L).run1().toLongArray());
        assertEquals(2.5f, SingleOp.of("Constant").attr("value_float", 2.5f).run1().getFloat(0));
        assertEquals("hi", SingleOp.of("Constant").attr("value_string", "hi").run1().getString(0));
        Tensor filled = SingleOp.of("ConstantOfShape").attr(Attribute.of("value", Tensor.of(new long[] {7}, 1)))
                .inputs(longs(2, 0)).run1();
        assertEquals(DType.INT64, filled.dtype());
        assertArrayEquals(new long[] {2, 0}, filled.shape());
    }

    @Test
    void rangeAndEyeLike() {
        assertArrayEquals(new long[] {10, 7, 4}, SingleOp.of("Range").inputs(Tensor.scalar(10L), Tensor.scalar(1L), Tensor.scalar(-3L)).run1().toLongArray());
        assertEquals(0, SingleOp.of("Range").inputs(Tensor.scalar(1f), Tensor.scalar(0f), Tensor.scalar(1f)).run1().size());
        Tensor eye = SingleOp.of("EyeLike").attr("k", 1L).attr("dtype", 7L).inputs(iota(2, 3)).run1();
        assertEquals(DType.INT64, eye.dtype());
        assertArrayEquals(new long[] {0, 1, 0, 0, 0, 1}, eye.toLongArray());
    }

    @Test
    void dropoutIsIdentityWithTrueMask() {
        Value[] out = SingleOp.of("Dropout").outputs(2).inputs(iota(3), Tensor.scalar(0.5f)).runValues();
        assertArrayEquals(new float[] {0, 1, 2}, ((Tensor) out[0]).toFloatArray());
        assertEquals(DType.BOOL, ((Tensor) out[1]).dtype());
        assertTrue(((Tensor) out[1]).getBoolean(2));
    }

    /** Training mode: kept elements scaled by 1/(1 − ratio), the rest zero; a seeded node draws the same sequence of masks. */
    @Test
    void trainingDropoutDrawsANewMaskEachRun() {
        float[] values = new float[1000];
        for (int i = 0; i < values.length; i++) values[i] = i + 1;
        Tensor x = Tensor.of(values, values.length);
        Map<String, Tensor> feed = Map.of("x0", x, "x1", Tensor.scalar(0.25f), "x2", Tensor.of(new boolean[] {true}, new long[0]));
        Model m = SingleOp.of("Dropout").attr("seed", 5L).outputs(2).inputs(x, feed.get("x1"), feed.get("x2")).model();
        try (CompiledModel a = CompiledModel.compile(m, new CompiledModel.Options(1)); Session sa = a.newSession();
             CompiledModel b = CompiledModel.compile(m, new CompiledModel.Options(1)); Session sb = b.newSession()) {
            Map<String, Tensor> first = sa.run(feed), second = sa.run(feed), again = sb.run(feed);
            Tensor y = first.get("y0"), mask = first.get("y1");
            int kept = 0;
            for (int i = 0; i < values.length; i++) {
                boolean keep = mask.getBoolean(i);
                if (keep) kept++;
                assertEquals(keep ? values[i] / 0.75 : 0, y.getDouble(i), 1e-3, "y[" + i + "]");
            }
            // Binomial(1000, 0.75): mean 750, standard deviation 13.7
            assertTrue(Math.abs(kept - 750) < 70, kept + " kept");
            assertArrayEquals(mask.toLongArray(), again.get("y1").toLongArray(), "same seed, same first mask");
            assertFalse(Arrays.equals(mask.toLongArray(), second.get("y1").toLongArray()), "the second run draws anew");
        }
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> SingleOp.of("Dropout")
                .inputs(iota(3), Tensor.scalar(1f), Tensor.of(new boolean[] {true}, new long[0])).run1());
        assertTrue(e.getMessage().contains("ratio 1.0 is outside [0, 1)"), e.getMessage());
    }

    // ---- Shape inference ----

    /** Runs the op's type rule on the given input types and constant inputs (null where not constant). */
    private static List<ValueType> infer(String op, int opset, Map<String, Attribute> attrs, List<ValueType> types,
                                         List<Tensor> constants, int outputs) {
        List<String> ins = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) ins.add("x" + i);
        List<String> outs = new ArrayList<>();
        for (int i = 0; i < outputs; i++) outs.add("y" + i);
        Node node = new Node("n", "", op, ins, outs, attrs);
        NodeContext ctx = new NodeContext(node, opset, types, constants, g -> null);
        return OpRegistry.get().find("", op, opset).infer().infer(ctx);
    }

    private static TensorType symbolic(DType dtype, Object... dims) {
        List<Dim> d = new ArrayList<>();
        for (Object o : dims) d.add(o instanceof String s ? new Dim.Symbolic(s) : Dim.of(((Number) o).longValue()));
        return new TensorType(dtype, d);
    }

    @Test
    void inferenceComputesExactShapesFromConstants() {
        TensorType x = symbolic(DType.FLOAT, "N", 3, 4);
        ValueType shapeType = TensorType.of(DType.INT64, 2);
        assertEquals(symbolic(DType.FLOAT, "N", 12), infer("Reshape", 14, Map.of(), List.of(x, shapeType),
                Arrays.asList(null, longs(0, 12)), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 2, 6), infer("Reshape", 14, Map.of(), List.of(x, TensorType.of(DType.INT64, 3)),
                Arrays.asList(null, longs(0, 2, -1)), 1).get(0));
        assertEquals(TensorType.of(DType.FLOAT, 2, 12), infer("Reshape", 14, Map.of(),
                List.of(TensorType.of(DType.FLOAT, 2, 3, 4), shapeType), Arrays.asList(null, longs(2, -1)), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 3, 2), infer("Slice", 13, Map.of(),
                List.of(x, TensorType.of(DType.INT64, 1), TensorType.of(DType.INT64, 1), TensorType.of(DType.INT64, 1)),
                Arrays.asList(null, longs(-2), longs(100), longs(2)), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 6, 4), infer("Tile", 13, Map.of(),
                List.of(x, TensorType.of(DType.INT64, 3)), Arrays.asList(null, longs(1, 2, 1)), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, 5, "N", 3, 4), infer("Expand", 13, Map.of(),
                List.of(x, TensorType.of(DType.INT64, 4)), Arrays.asList(null, longs(5, 1, 1, 4)), 1).get(0));
        assertEquals(TensorType.of(DType.INT64, 4), infer("Range", 11, Map.of(),
                List.of(TensorType.of(DType.INT64), TensorType.of(DType.INT64), TensorType.of(DType.INT64)),
                List.of(Tensor.scalar(0L), Tensor.scalar(7L), Tensor.scalar(2L)), 1).get(0));
        assertEquals(TensorType.of(DType.FLOAT, 2, 5), infer("ConstantOfShape", 9, Map.of(),
                List.of(TensorType.of(DType.INT64, 2)), List.of(longs(2, 5)), 1).get(0));
    }

    @Test
    void inferencePassesSymbolicDims() {
        TensorType x = symbolic(DType.FLOAT, "N", 3, "T");
        Map<String, Attribute> perm = Map.of("perm", Attribute.ints("perm", List.of(2L, 0L, 1L)));
        assertEquals(symbolic(DType.FLOAT, "T", "N", 3), infer("Transpose", 13, perm, List.of(x), Arrays.asList((Tensor) null), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 6, "T"), infer("Concat", 13, Map.of("axis", Attribute.of("axis", 1L)),
                List.of(x, x), Arrays.asList(null, null), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 1, 3, "T"), infer("Unsqueeze", 13, Map.of(),
                List.of(x, TensorType.of(DType.INT64, 1)), Arrays.asList(null, longs(1)), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", 5, 3, "T"), infer("Gather", 13, Map.of("axis", Attribute.of("axis", 1L)),
                List.of(symbolic(DType.FLOAT, "N", 7, 3, "T"), TensorType.of(DType.INT64, 5)), Arrays.asList(null, null), 1).get(0));
        assertEquals(symbolic(DType.FLOAT, "N", "T"), infer("Squeeze", 13, Map.of(),
                List.of(symbolic(DType.FLOAT, "N", 1, "T"), TensorType.of(DType.INT64, 1)), Arrays.asList(null, longs(-2)), 1).get(0));
        // Unknown inputs never make inference throw.
        assertEquals(ValueType.UNKNOWN, infer("Reshape", 14, Map.of(), List.of(ValueType.UNKNOWN, ValueType.UNKNOWN),
                Arrays.asList(null, null), 1).get(0));
        Map<String, Attribute> none = new HashMap<>();
        assertEquals(TensorType.unknownShape(DType.FLOAT), infer("Transpose", 13, none,
                List.of(TensorType.unknownShape(DType.FLOAT)), Arrays.asList((Tensor) null), 1).get(0));
    }
}
