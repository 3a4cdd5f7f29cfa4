package dev.onnxrun.benchmarks;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;

/**
 * Command-line mistakes of the benchmark runners: one line on stderr, in the shell's usual form,
 * and exit status 2 (a usage error, as onnxrun's CLI), never a stack trace.
 */
final class Usage {
    private Usage() {}

    /** Prints {@code benchmarks/run TOOL: MESSAGE} and exits with status 2. */
    static RuntimeException fail(String tool, String message) {
        System.err.println("benchmarks/run " + tool + ": " + message);
        System.exit(2);
        return new IllegalStateException(message); // not reached: lets callers write `throw fail(...)`
    }

    /** The value after option {@code args[i]}. */
    static String value(String tool, String[] args, int i) {
        if (i + 1 >= args.length) throw fail(tool, args[i] + " needs a value");
        return args[i + 1];
    }

    /** Option {@code args[i]}'s value as comma-separated numbers. */
    static long[] numbers(String tool, String[] args, int i) {
        try {
            return Arrays.stream(value(tool, args, i).split(",")).mapToLong(Long::parseLong).toArray();
        } catch (NumberFormatException e) {
            throw fail(tool, args[i] + " takes numbers (comma-separated), not '" + args[i + 1] + "'");
        }
    }

    /** Option {@code args[i]}'s value as one number. */
    static int number(String tool, String[] args, int i) {
        long[] v = numbers(tool, args, i);
        if (v.length != 1 || v[0] != (int) v[0]) throw fail(tool, args[i] + " takes one number, not '" + args[i + 1] + "'");
        return (int) v[0];
    }

    /** The models a path argument names (a model file, a model's folder, or a folder of them); unknown options and missing paths fail. */
    static List<Path> models(String tool, String arg) throws Exception {
        if (arg.startsWith("--")) throw fail(tool, "unknown option '" + arg + "'");
        if (!Files.exists(Path.of(arg))) throw fail(tool, arg + ": no such file or directory");
        return CompareWithOnnxRuntime.find(Path.of(arg));
    }
}
