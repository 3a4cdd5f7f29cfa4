package dev.onnxrun.benchmarks;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.List;

/** Runs a benchmark's child mode in a fresh JVM with this JVM's flags and class path, for figures that belong to a process. */
final class ChildJvm {
    private ChildJvm() {}

    /** The child's standard output, trimmed; its standard error goes to ours. Fails when it exits non-zero. */
    static String run(Class<?> main, List<String> extraJvmFlags, List<String> args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(ManagementFactory.getRuntimeMXBean().getInputArguments());
        cmd.addAll(extraJvmFlags);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), main.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        String out = new String(p.getInputStream().readAllBytes()).trim();
        if (p.waitFor() != 0) throw new IllegalStateException(main.getSimpleName() + " " + String.join(" ", args) + " failed (exit " + p.exitValue() + ")");
        return out;
    }
}
