package dev.onnxrun.runtime.kernels;

import java.util.Map;

/**
 * Constant weights packed for a kernel ({@link Conv.PackedWeights}, {@link Gemm.PackedB},
 * {@link RecurrentFloat.Weights}), which a compiled model carries so that loading it packs
 * nothing. A form is saved as named parts, each one float array tagged with a layout key that
 * names everything its layout depends on: the form and its format version, and
 * {@link Gemm#PANEL_LAYOUT} (vector lanes, micro-tile and block sizes). Each form restores its own
 * parts, through {@link Stored#take}, from the weights it was packed from.
 */
public interface PackedForm {
    /** One saved part: its layout key and its floats. */
    record Part(String layout, float[] data) {}

    /** The parts made so far, by name (a form may make some only when a run first needs them). */
    Map<String, Part> parts();

    /** The parts a compiled model holds for one node, offered to its kernel's packing. */
    interface Stored {
        /**
         * Part {@code name}'s floats when it was saved with layout key {@code layout} and holds
         * exactly {@code length} floats; else null, and the caller packs the weights itself.
         */
        float[] take(String name, String layout, long length);

        /** Nothing stored: everything is packed from the weights. */
        Stored NONE = (name, layout, length) -> null;
    }
}
