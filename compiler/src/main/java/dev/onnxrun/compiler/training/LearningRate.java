package dev.onnxrun.compiler.training;

import dev.onnxrun.runtime.OnnxrunException;
import java.util.Locale;

/**
 * The learning rate of each step: {@code base} throughout ({@link Schedule#CONSTANT}), times
 * {@code gamma} every {@code stepEpochs} epochs ({@link Schedule#STEP}, PyTorch's
 * {@code StepLR} stepped per epoch), or annealed from {@code base} towards 0 along half a
 * cosine over the run's steps ({@link Schedule#COSINE}, {@code CosineAnnealingLR} with
 * {@code T_max} the total step count, stepped per batch).
 */
public record LearningRate(double base, Schedule schedule, int stepEpochs, double gamma) {
    public enum Schedule { CONSTANT, STEP, COSINE }

    public LearningRate {
        if (!(base > 0) || stepEpochs < 1 || !(gamma > 0)) {
            throw OnnxrunException.invalidInput("learning rate and gamma must be positive and the step at least 1 epoch, got rate "
                    + base + ", step " + stepEpochs + ", gamma " + gamma);
        }
    }

    /** A constant rate. */
    public static LearningRate constant(double base) { return new LearningRate(base, Schedule.CONSTANT, 1, 1); }

    /** The schedule named {@code name}: constant, step or cosine. */
    public static Schedule schedule(String name) {
        try {
            return Schedule.valueOf(name.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw OnnxrunException.invalidInput("unknown learning-rate schedule '" + name + "' (expected constant, step or cosine)");
        }
    }

    /** The rate of the {@code step}-th update (from 1) of {@code totalSteps}, in epoch {@code epoch} (from 1). */
    public double at(int epoch, long step, long totalSteps) {
        return switch (schedule) {
            case CONSTANT -> base;
            case STEP -> base * Math.pow(gamma, (epoch - 1) / stepEpochs);
            case COSINE -> base * (1 + Math.cos(Math.PI * (step - 1) / Math.max(1, totalSteps))) / 2;
        };
    }
}
