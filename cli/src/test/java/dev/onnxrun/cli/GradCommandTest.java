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
        assertCheckedAndRuns(out, "output conv_weight_0.adam_m.new: float[6,1,5,5]");
    }

    @Test
    void writesAStepForAPyTorchExportWithTheOptimizerAsked() {
        Path out = tmp.resolve("mlp_step.onnx");
        CliTest.Result r = cli("grad", "../testmodels/cases/mlp/model.onnx", "--optimizer", "momentum", "--lr", "0.01", "--batch", "3",
                "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        assertCheckedAndRuns(out, "output fc1.weight.momentum.new: float[128,784]");
    }

    /** The options train shares: another loss, rmsprop with its state, clipping, and the rate as the lr input. */
    @Test
    void writesAStepWithTrainsLossOptimizerAndClippingOptions() {
        Path out = tmp.resolve("mlp_step.onnx");
        CliTest.Result r = cli("grad", "../testmodels/specs/mlp.net", "--loss", "huber", "--huber-delta", "0.5", "--reduction", "sum",
                "--optimizer", "rmsprop", "--weight-decay", "0.001", "--clip-norm", "1", "--lr-input", "--batch", "2", "-o", out.toString());
        assertEquals(0, r.code(), r.err());
        // the spec's momentum 0.9 applies to rmsprop too: a momentum buffer beside the running mean square
        assertCheckedAndRuns(out, "output dense_weight_1.rmsprop_square.new: float[256,784]", "output dense_weight_1.rmsprop_momentum.new",
                "input  lr: float[]");
    }

    /** {@code onnxrun check} passes the step and {@code onnxrun} runs it, printing each of {@code expectedLines}. */
    private static void assertCheckedAndRuns(Path step, String... expectedLines) {
        CliTest.Result check = cli("check", step.toString());
        assertEquals(0, check.code(), check.out() + check.err());
        CliTest.Result run = cli(step.toString());
        assertEquals(0, run.code(), run.err());
        assertTrue(run.out().contains("output loss: float[]"), run.out());
        for (String line : expectedLines) assertTrue(run.out().contains(line), line + " not in " + run.out());
    }

    @Test
    void badSettingsAreUsageErrors() {
        String out = tmp.resolve("x.onnx").toString();
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--loss", "focal", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--reduction", "none", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--optimizer", "lion", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--batch", "0", "-o", out).code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net").code());
        assertEquals(Main.EXIT_USAGE, cli("grad", "../testmodels/specs/mlp.net", "--clip-norm", "-1", "-o", out).code());
    }
}
