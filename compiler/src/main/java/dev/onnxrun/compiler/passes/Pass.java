package dev.onnxrun.compiler.passes;

import dev.onnxrun.compiler.ir.Graph;
import dev.onnxrun.compiler.ir.OpsetImports;

/** A graph-to-graph rewrite. Never mutates its input; returns the same instance when nothing changed. */
public interface Pass {
    /** Short kebab-case name, as {@code --passes} takes it. */
    String name();

    Graph run(Graph g, OpsetImports opsets);

    /**
     * True for a pass that should see the graph only once the others stop changing it (in a round
     * where an earlier pass changed something, the optimizer skips it), because what it takes
     * apart other passes would rather rewrite.
     */
    default boolean waitsForTheOthers() { return false; }
}
