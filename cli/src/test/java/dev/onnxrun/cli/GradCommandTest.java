package dev.onnxrun.cli;

import static dev.onnxrun.cli.CliTest.cli;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code onnxrun grad} end to end: the written training step uses no own-domain op, passes
 * {@code onnxrun check}, and {@code onnxrun} runs it. (Its numbers are checked against the
 * trainer and ONNX Runtime in testmodels' TrainingStepOracleTest.)
 */
class GradCommandTest {
    @TempDir
    Path tmp;

    @Test
    void writesACheckedRunnableStepForASpec() {
        Path out = tmp.resolve("lenet_step.onnx");
        CliTest.Result r = cli("grad", "../testmodels/specs/lenet.net", "--batch", "4", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s)wrote .*: inputs=\\d+ outputs=\\d+ nodes=\\d+ own_ops=0\\s*"), r.out());
        assertCheckedAndRuns(out, "conv_weight_0.adam_m.new: float[6,1,5,5]");
    }

    @Test
    void writesAStepForAPyTorchExportWithTheOptimizerAsked() {
        Path out = tmp.resolve("mlp_step.onnx");
        CliTest.Result r = cli("grad", "../testmodels/cases/mlp/model.onnx", "--optimizer", "momentum", "--lr", "0.01", "--batch", "3",
                "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertCheckedAndRuns(out, "fc1.weight.momentum.new: float[128,784]");
    }

    private static void assertCheckedAndRuns(Path step, String expectedOutput) {
        CliTest.Result check = cli("check", step.toString());
        assertEquals(0, check.code(), check.out() + check.err());
        CliTest.Result run = cli(step.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("output loss: float[]"), run.out());
        assertTrue(run.out().contains("output " + expectedOutput), run.out());
    }

    @Test
    void badSettingsAreUsageOrInputErrors() {
        String out = tmp.resolve("x.onnx").toString();
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--loss", "hinge", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--batch", "0", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net").code());
        CliTest.assertOneLineError(cli("grad", "../testmodels/specs/mlp.net", "--optimizer", "lion", "-o", out), "unknown optimizer 'lion'");
    }
}
