package dev.onnxrun.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.onnxrun.compiler.onnx.TensorProtos;
import dev.onnxrun.onnx.Onnx;
import dev.onnxrun.runtime.Tensor;
import dev.onnxrun.runtime.kernels.BlockedConv;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The CLI end to end, in-process: exit codes, one-line errors, output formats. */
class CliTest {
    static final Path MLP = Path.of("../testmodels/cases/mlp");

    @TempDir
    Path tmp;

    record Result(int code, String out, String err) {}

    static Result cli(String... args) {
        StringWriter out = new StringWriter(), err = new StringWriter();
        int code = assertTimeoutPreemptively(Duration.ofSeconds(60),
                () -> Main.execute(args, new PrintWriter(out), new PrintWriter(err)));
        return new Result(code, out.toString(), err.toString());
    }

    /** A bad-input failure: exit 3, exactly one line on stderr naming the problem, no stack trace. */
    static void assertOneLineError(Result r, String expectedFragment) {
        assertEquals(Main.EXIT_INVALID, r.code(), r.err());
        String[] lines = r.err().strip().split("\n");
        assertEquals(1, lines.length, "one line expected, got: " + r.err());
        assertTrue(lines[0].startsWith("onnxrun: "), lines[0]);
        assertTrue(lines[0].contains(expectedFragment), "'" + expectedFragment + "' not in: " + lines[0]);
        assertFalse(r.err().contains("\tat "), "stack trace printed");
    }

    /** A model with one Identity node from input x of {@code type} to output y. */
    static Onnx.ModelProto identityModel(Onnx.TypeProto type, Onnx.TensorProto initializer) {
        Onnx.GraphProto.Builder g = Onnx.GraphProto.newBuilder().setName("g")
                .addInput(Onnx.ValueInfoProto.newBuilder().setName("x").setType(type))
                .addOutput(Onnx.ValueInfoProto.newBuilder().setName("y").setType(type))
                .addNode(Onnx.NodeProto.newBuilder().setName("id").setOpType("Identity").addInput("x").addOutput("y"));
        if (initializer != null) g.addInitializer(initializer);
        return Onnx.ModelProto.newBuilder().setIrVersion(8).setGraph(g)
                .addOpsetImport(Onnx.OperatorSetIdProto.newBuilder().setVersion(17)).build();
    }

    static Onnx.TypeProto floatType(long... dims) {
        Onnx.TensorShapeProto.Builder s = Onnx.TensorShapeProto.newBuilder();
        for (long d : dims) s.addDim(Onnx.TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        return Onnx.TypeProto.newBuilder().setTensorType(Onnx.TypeProto.Tensor.newBuilder().setElemType(1).setShape(s)).build();
    }

    Path write(String name, byte[] bytes) throws Exception {
        Path p = tmp.resolve(name);
        Files.write(p, bytes);
        return p;
    }

    @Test
    void runsACommittedModelAndSummarizesOutputs() {
        Result r = cli(MLP.resolve("model.onnx").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("output output: float[2,10]"), r.out());
        assertTrue(r.out().contains("min: "), r.out());
        assertTrue(r.out().matches("(?s).*run [0-9.]+ ms.*"), r.out());
    }

    @Test
    void runWritesOutputsThatMatchTheReference() throws Exception {
        Path dir = tmp.resolve("out");
        Result r = cli("run", MLP.resolve("model.onnx").toString(),
                "--input", "input=" + MLP.resolve("test_data_set_0/input_0.pb"), "--output-dir", dir.toString());
        assertEquals(0, r.code(), r.err());
        Tensor ours = TensorProtos.read(dir.resolve("output_0.pb"));
        Tensor torch = TensorProtos.read(MLP.resolve("test_data_set_0/output_0.pb"));
        float[] a = ours.toFloatArray(), b = torch.toFloatArray();
        assertEquals(b.length, a.length);
        for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-4 + 1e-3 * Math.abs(b[i]), "element " + i);
    }

    @Test
    void testCommandPrintsOneLinePerCaseAndClosingCount() {
        Result r = cli("test", MLP.toString());
        assertEquals(0, r.code(), r.out() + r.err());
        assertEquals("PASS mlp\n1 passed, 0 failed", r.out().strip());
    }

    @Test
    void testCommandExitsOneOnFailure() throws Exception {
        Path c = tmp.resolve("wrong");
        Files.createDirectories(c.resolve("test_data_set_0"));
        Files.write(c.resolve("model.onnx"), identityModel(floatType(2), null).toByteArray());
        TensorProtos.write(Tensor.of(new float[] {1, 2}, 2), "x", c.resolve("test_data_set_0/input_0.pb"));
        TensorProtos.write(Tensor.of(new float[] {1, 3}, 2), "y", c.resolve("test_data_set_0/output_0.pb"));
        Result r = cli("test", c.toString());
        assertEquals(Main.EXIT_TEST_FAILURES, r.code());
        assertTrue(r.out().startsWith("FAIL wrong: "), r.out());
        assertTrue(r.out().strip().endsWith("0 passed, 1 failed"), r.out());
    }

    @Test
    void compiledModelRunsWithTheReferenceOutputsAndReports() throws Exception {
        Path resnet = Path.of("../testmodels/cases/resnet_small");
        Path c = tmp.resolve("resnet_compiled");
        Files.createDirectories(c.resolve("test_data_set_0"));
        for (String f : new String[] {"input_0.pb", "output_0.pb"}) {
            Files.copy(resnet.resolve("test_data_set_0").resolve(f), c.resolve("test_data_set_0").resolve(f));
        }
        Result r = cli("compile", resnet.resolve("model.onnx").toString(), "-o", c.resolve("model.onnx").toString(), "--report");
        assertEquals(0, r.code(), r.err());
        String last = r.out().strip().lines().reduce((a, b) -> b).orElseThrow();
        assertTrue(last.matches("nodes=22->\\d+ batchnorm=0 fused=\\d+ arena_bytes=\\d+ naive_bytes=\\d+ bound_bytes=\\d+"), last);
        Result test = cli("test", c.toString());
        assertEquals(0, test.code(), test.out());
        String inspected = cli("inspect", c.resolve("model.onnx").toString()).out();
        assertTrue(inspected.contains(BlockedConv.suited() ? "dev.onnxrun.BlockedConv" : "dev.onnxrun.FusedConv"), inspected);
        assertTrue(inspected.matches("(?s).*packed: +\\d+ parts, .*, \\d+ for this machine's layout.*"), inspected);
        assertTrue(inspected.contains("memory plan: "), inspected);
        Result bench = cli("bench", c.resolve("model.onnx").toString(), "--warmup", "1", "--iterations", "2", "--threads", "1");
        assertEquals(0, bench.code(), bench.err());
    }

    @Test
    void compileNeedsSomethingToDo() {
        assertEquals(Main.EXIT_USAGE, cli("compile", MLP.resolve("model.onnx").toString()).code());
    }

    @Test
    void benchEndsWithTimingLine() {
        Result r = cli("bench", MLP.resolve("model.onnx").toString(), "--warmup", "1", "--iterations", "3", "--threads", "1");
        assertEquals(0, r.code(), r.err());
        String[] lines = r.out().strip().split("\n");
        assertTrue(lines[lines.length - 1].matches("median_ms=[0-9.]+ min_ms=[0-9.]+ max_ms=[0-9.]+"), lines[lines.length - 1]);
    }

    /** Per node: one line per node of the compiled plan, named, with its output shape; a bad grouping is a usage error. */
    @Test
    void benchProfilesPerNode() {
        Result r = cli("bench", MLP.resolve("model.onnx").toString(), "--warmup", "1", "--iterations", "2", "--threads", "1", "--profile=node");
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*\\n\\s+[0-9.]+\\s+[0-9.]+%\\s+\\S*Gemm\\s+\\[2, 128\\]\\s+/fc1/Gemm\\n.*"), r.out());
        Result byOp = cli("bench", MLP.resolve("model.onnx").toString(), "--warmup", "1", "--iterations", "2", "--threads", "1", "--profile");
        assertTrue(byOp.out().contains("\nop "), byOp.out());
        assertEquals(Main.EXIT_USAGE, cli("bench", MLP.resolve("model.onnx").toString(), "--profile=layer").code());
    }

    @Test
    void inspectShowsOpsAndParameters() {
        Result r = cli("inspect", MLP.resolve("model.onnx").toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("Gemm"), r.out());
        assertTrue(r.out().contains("parameters: "), r.out());
        assertTrue(r.out().contains("opsets:    ai.onnx=13"), r.out());
    }

    @Test
    void opsListsRegistry() {
        Result r = cli("ops");
        assertEquals(0, r.code());
        assertTrue(r.out().contains("Identity"), r.out());
        assertTrue(r.out().strip().endsWith(" ops"), r.out());
    }

    @Test
    void truncatedModelFailsWithOneLine() throws Exception {
        byte[] full = Files.readAllBytes(MLP.resolve("model.onnx"));
        Path p = write("truncated.onnx", java.util.Arrays.copyOf(full, full.length / 3));
        assertOneLineError(cli(p.toString()), "truncated");
    }

    @Test
    void verbosePrintsTheStackTraceAfterTheLine() throws Exception {
        Path p = write("garbage.onnx", "not a model".getBytes());
        Result r = cli("--verbose", p.toString());
        assertEquals(Main.EXIT_INVALID, r.code());
        assertTrue(r.err().contains("\tat "), r.err());
        assertTrue(r.err().startsWith("onnxrun: garbage.onnx: not a valid ONNX model"), r.err());
    }

    @Test
    void garbageFileFailsWithOneLine() throws Exception {
        Path p = write("garbage.onnx", "this is not a model\n".getBytes());
        assertOneLineError(cli(p.toString()), "garbage.onnx");
    }

    @Test
    void missingFileFailsWithOneLine() {
        assertOneLineError(cli(tmp.resolve("nope.onnx").toString()), "no such file");
    }

    @Test
    void unknownOpIsNamedByCheckAndRun() throws Exception {
        Onnx.ModelProto m = identityModel(floatType(2), null);
        Onnx.ModelProto bad = m.toBuilder().setGraph(m.getGraph().toBuilder()
                .setNode(0, m.getGraph().getNode(0).toBuilder().setOpType("FrobnicateV2"))).build();
        Path p = write("unknown.onnx", bad.toByteArray());
        assertOneLineError(cli(p.toString()), "op FrobnicateV2 is not supported");
        Result check = cli("check", p.toString());
        assertEquals(Main.EXIT_INVALID, check.code());
        assertTrue(check.err().contains("op FrobnicateV2 is not supported (node 'id' (FrobnicateV2))"), check.err());
    }

    @Test
    void checkPassesASupportedModel() throws Exception {
        Path p = write("ok.onnx", identityModel(floatType(2), null).toByteArray());
        Result r = cli("check", p.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().contains("all 1 nodes supported"), r.out());
    }

    @Test
    void wrongInputShapeAndTypeAreRejected() throws Exception {
        Path model = write("id.onnx", identityModel(floatType(2, 3), null).toByteArray());
        Path wrongShape = tmp.resolve("shape.pb");
        TensorProtos.write(Tensor.of(new float[] {1, 2, 3}, 3), "x", wrongShape);
        assertOneLineError(cli(model.toString(), "--input", "x=" + wrongShape), "input 'x' has shape [3]");
        Path wrongType = tmp.resolve("type.pb");
        TensorProtos.write(Tensor.of(new long[] {1, 2, 3, 4, 5, 6}, 2, 3), "x", wrongType);
        assertOneLineError(cli(model.toString(), "--input", "x=" + wrongType), "element type int64, expected float");
    }

    @Test
    void unknownInputNameIsRejected() throws Exception {
        Path model = write("id.onnx", identityModel(floatType(2), null).toByteArray());
        Path f = tmp.resolve("x.pb");
        TensorProtos.write(Tensor.of(new float[] {1, 2}, 2), "x", f);
        assertOneLineError(cli(model.toString(), "--input", "nosuch=" + f), "no input 'nosuch'");
    }

    @Test
    void overflowingDimsAreRejectedBeforeAllocation() throws Exception {
        Onnx.TensorProto huge = Onnx.TensorProto.newBuilder().setName("w").setDataType(1)
                .addDims(1L << 40).addDims(1L << 40).setRawData(ByteString.copyFrom(new byte[8])).build();
        Path p = write("overflow.onnx", identityModel(floatType(2), huge).toByteArray());
        assertOneLineError(cli(p.toString()), "more than");
    }

    @Test
    void declaredShapeBeyondMemoryIsRejected() throws Exception {
        Path p = write("big.onnx", identityModel(floatType(100000, 100000, 1000), null).toByteArray());
        assertOneLineError(cli(p.toString()), "shape [100000,100000,1000]");
    }

    /** --passes' help names every pass of the optimizer, from the pipeline itself. */
    @Test
    void passesHelpNamesEveryPass() {
        String help = cli("bench", "--help").out().replaceAll("\\s+", " ");
        for (var pass : dev.onnxrun.compiler.passes.Optimizer.DEFAULT_PASSES) assertTrue(help.contains(pass.name()), pass.name() + " not in: " + help);
    }

    @Test
    void usageErrorsExitTwo() {
        Result r = cli("run", MLP.resolve("model.onnx").toString(), "--no-such-flag");
        assertEquals(Main.EXIT_USAGE, r.code());
        assertTrue(r.err().startsWith("onnxrun: "), r.err());
        assertEquals(Main.EXIT_USAGE, cli().code());
    }
}
