package dev.onnxrun.compiler.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.onnxrun.runtime.OnnxrunException;
import dev.onnxrun.runtime.Parallel;
import dev.onnxrun.runtime.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Each update rule over three steps (changing rate, weight decay on) against references: the
 * PyTorch algorithms ({@code torch.optim}'s documented pseudo-code) written out here in double,
 * and, where PyTorch is installed, {@code torch.optim} itself run at test time.
 */
class UpdateRuleTest {
    static final double[] X0 = {0.5, -1.5, 2.0};
    static final double[][] GRADS = {{0.3, -0.2, 1.0}, {-0.1, 0.4, 0.5}, {0.2, 0.1, -0.7}};
    static final double[] RATES = {0.1, 0.05, 0.02};

    /** One optimizer setting: our name and settings, and the torch.optim constructor call that matches it. */
    record Case(String name, Map<String, Double> settings, String torch) {}

    static final List<Case> CASES = List.of(
            new Case("adam", Map.of("weight_decay", 0.1), "torch.optim.Adam(p, lr=1, weight_decay=0.1)"),
            new Case("adamw", Map.of("weight_decay", 0.1), "torch.optim.AdamW(p, lr=1, weight_decay=0.1)"),
            new Case("adamw", Map.of(), "torch.optim.AdamW(p, lr=1)"),
            new Case("sgd", Map.of("weight_decay", 0.1), "torch.optim.SGD(p, lr=1, weight_decay=0.1)"),
            new Case("momentum", Map.of("weight_decay", 0.1), "torch.optim.SGD(p, lr=1, momentum=0.9, weight_decay=0.1)"),
            new Case("nesterov", Map.of("momentum", 0.8), "torch.optim.SGD(p, lr=1, momentum=0.8, nesterov=True)"),
            new Case("adagrad", Map.of("weight_decay", 0.1), "torch.optim.Adagrad(p, lr=1, weight_decay=0.1)"),
            new Case("rmsprop", Map.of("weight_decay", 0.1), "torch.optim.RMSprop(p, lr=1, weight_decay=0.1)"),
            new Case("rmsprop", Map.of("centered", 1.0, "alpha", 0.9), "torch.optim.RMSprop(p, lr=1, alpha=0.9, centered=True)"),
            new Case("rmsprop", Map.of("momentum", 0.5, "centered", 1.0, "weight_decay", 0.1),
                    "torch.optim.RMSprop(p, lr=1, momentum=0.5, centered=True, weight_decay=0.1)"));

    /** The rule's parameter after the three steps, in float as the trainer holds parameters. */
    static double[] run(Case c) {
        UpdateRule rule = UpdateRule.parse(c.name(), c.settings());
        Tensor x = Tensor.of(toFloats(X0), X0.length);
        Tensor[] state = rule.initialState(x);
        for (int k = 0; k < GRADS.length; k++) {
            Tensor[] next = rule.apply(k + 1, RATES[k], x, Tensor.of(toFloats(GRADS[k]), X0.length), state, Parallel.SERIAL);
            x = next[0];
            state = Arrays.copyOfRange(next, 1, next.length);
        }
        double[] out = new double[X0.length];
        for (int i = 0; i < out.length; i++) out[i] = x.getDouble(i);
        return out;
    }

    private static float[] toFloats(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    @Test
    void everyRuleFollowsTheTorchAlgorithm() {
        for (Case c : CASES) {
            double[] expected = reference(c), actual = run(c);
            for (int i = 0; i < X0.length; i++) assertEquals(expected[i], actual[i], 1e-5, c + " element " + i);
        }
    }

    /** torch.optim's algorithms, element by element in double, from their documentation's pseudo-code. */
    static double[] reference(Case c) {
        Map<String, Double> s = c.settings();
        double wd = s.getOrDefault("weight_decay", c.name().equals("adamw") ? 0.01 : 0.0);
        double[] out = new double[X0.length];
        for (int i = 0; i < X0.length; i++) {
            double x = X0[i], m = 0, v = 0, b = 0, gAvg = 0, sum = 0;
            for (int k = 0; k < GRADS.length; k++) {
                double g = GRADS[k][i], lr = RATES[k];
                int t = k + 1;
                switch (c.name()) {
                    case "adam", "adamw" -> {
                        if (c.name().equals("adamw")) x *= 1 - lr * wd;
                        else g += wd * x;
                        m = 0.9 * m + 0.1 * g;
                        v = 0.999 * v + 0.001 * g * g;
                        double mHat = m / (1 - Math.pow(0.9, t)), vHat = v / (1 - Math.pow(0.999, t));
                        x -= lr * mHat / (Math.sqrt(vHat) + 1e-8);
                    }
                    case "sgd", "momentum", "nesterov" -> {
                        double mu = s.getOrDefault("momentum", c.name().equals("sgd") ? 0.0 : 0.9);
                        g += wd * x;
                        b = t == 1 ? g : mu * b + g;
                        x -= lr * (c.name().equals("nesterov") ? g + mu * b : mu == 0 ? g : b);
                    }
                    case "adagrad" -> {
                        g += wd * x;
                        sum += g * g;
                        x -= lr * g / (Math.sqrt(sum) + 1e-10);
                    }
                    case "rmsprop" -> {
                        double alpha = s.getOrDefault("alpha", 0.99), mu = s.getOrDefault("momentum", 0.0);
                        g += wd * x;
                        v = alpha * v + (1 - alpha) * g * g;
                        double avg = v;
                        if (s.getOrDefault("centered", 0.0) != 0) {
                            gAvg = alpha * gAvg + (1 - alpha) * g;
                            avg -= gAvg * gAvg;
                        }
                        avg = Math.sqrt(avg) + 1e-8;
                        if (mu > 0) {
                            b = mu * b + g / avg;
                            x -= lr * b;
                        } else {
                            x -= lr * g / avg;
                        }
                    }
                    default -> throw new AssertionError(c.name());
                }
            }
            out[i] = x;
        }
        return out;
    }

    /** The same cases through torch.optim itself, when /usr/bin/python3 has torch. */
    @Test
    void everyRuleMatchesTorchOptim() throws IOException, InterruptedException {
        Path python = Path.of("/usr/bin/python3");
        Assumptions.assumeTrue(Files.isExecutable(python), "no /usr/bin/python3");
        StringBuilder script = new StringBuilder("import torch\n");
        script.append("grads = ").append(Arrays.deepToString(GRADS)).append("\nrates = ").append(Arrays.toString(RATES)).append('\n');
        for (Case c : CASES) {
            script.append("p = [torch.tensor(").append(Arrays.toString(X0)).append(", dtype=torch.float64, requires_grad=True)]\n")
                    .append("o = ").append(c.torch()).append('\n')
                    .append("for g, r in zip(grads, rates):\n")
                    .append("    o.param_groups[0]['lr'] = r\n")
                    .append("    p[0].grad = torch.tensor(g, dtype=torch.float64)\n")
                    .append("    o.step()\n")
                    .append("print(' '.join(repr(v) for v in p[0].tolist()))\n");
        }
        Process process = new ProcessBuilder(python.toString(), "-c", script.toString()).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        Assumptions.assumeTrue(process.waitFor(120, TimeUnit.SECONDS), "python timed out");
        Assumptions.assumeFalse(output.contains("No module named 'torch'"), "torch is not installed");
        assertEquals(0, process.exitValue(), output);
        String[] lines = output.strip().split("\n");
        Map<Case, double[]> torch = new LinkedHashMap<>();
        for (int k = 0; k < CASES.size(); k++) {
            torch.put(CASES.get(k), Arrays.stream(lines[lines.length - CASES.size() + k].trim().split(" ")).mapToDouble(Double::parseDouble).toArray());
        }
        torch.forEach((c, expected) -> {
            double[] actual = run(c);
            for (int i = 0; i < X0.length; i++) assertEquals(expected[i], actual[i], 1e-5, c + " element " + i);
        });
    }

    @Test
    void unknownOptimizerIsNamed() {
        OnnxrunException e = assertThrows(OnnxrunException.class, () -> UpdateRule.parse("lion", Map.of()));
        assertEquals(OnnxrunException.Kind.INVALID_INPUT, e.kind());
    }

    @Test
    void clippingScalesAllGradientsByOneFactor() {
        Map<String, Tensor> grads = new LinkedHashMap<>();
        grads.put("a", Tensor.of(new float[] {3, 0}, 2));
        grads.put("b", Tensor.of(new float[] {4}, 1));
        // global norm 5: clipped to 2 every element shrinks by 2 / 5
        Map<String, Tensor> clipped = Trainer.clipGlobalNorm(grads, 2);
        assertEquals(3 * 2 / (5 + 1e-6), clipped.get("a").getDouble(0), 1e-6);
        assertEquals(4 * 2 / (5 + 1e-6), clipped.get("b").getDouble(0), 1e-6);
        assertEquals(grads, Trainer.clipGlobalNorm(grads, 6));
    }

    @Test
    void scheduleRates() {
        LearningRate step = new LearningRate(0.1, LearningRate.Schedule.STEP, 2, 0.5);
        assertEquals(0.1, step.at(1, 1, 100), 1e-15);
        assertEquals(0.1, step.at(2, 50, 100), 1e-15);
        assertEquals(0.05, step.at(3, 51, 100), 1e-15);
        assertEquals(0.025, step.at(5, 99, 100), 1e-15);
        LearningRate cosine = new LearningRate(0.1, LearningRate.Schedule.COSINE, 1, 1);
        assertEquals(0.1, cosine.at(1, 1, 100), 1e-15);
        // a quarter of the way: (1 + cos(π/4)) / 2 of the base; half way: half
        assertEquals(0.1 * (1 + Math.sqrt(0.5)) / 2, cosine.at(1, 26, 100), 1e-15);
        assertEquals(0.05, cosine.at(2, 51, 100), 1e-15);
        assertEquals(0.1, LearningRate.constant(0.1).at(7, 1000, 10), 0);
    }
}
