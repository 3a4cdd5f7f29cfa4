package dev.onnxrun.cli;

import dev.onnxrun.runtime.OnnxrunException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/**
 * The {@code onnxrun} command. Exit codes: 0 ok, 1 test failures, 2 usage error,
 * 3 invalid or unsupported model or input, 4 internal error.
 */
@Command(name = "onnxrun", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Compile and run ONNX models on the JVM.",
        subcommands = {RunCommand.class, TestCommand.class, InspectCommand.class, BenchCommand.class,
                OpsCommand.class, CheckCommand.class, CompileCommand.class, TrainCommand.class, GradCommand.class},
        footer = {"", "With no command, 'onnxrun MODEL ...' is 'onnxrun run MODEL ...'.",
                "Exit codes: 0 ok, 1 test failures, 2 usage error, 3 invalid or unsupported model or input, 4 internal error."})
public final class Main implements Runnable {
    public static final int EXIT_OK = 0;
    public static final int EXIT_TEST_FAILURES = 1;
    public static final int EXIT_USAGE = 2;
    public static final int EXIT_INVALID = 3;
    public static final int EXIT_INTERNAL = 4;

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    /** Read from the raw arguments by {@link #execute}; declared here so every command accepts it. */
    @CommandLine.Option(names = "--verbose", scope = CommandLine.ScopeType.INHERIT, description = "Print stack traces of errors.")
    boolean verbose;

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "missing MODEL or command");
    }

    public static void main(String[] args) {
        System.exit(execute(args, new PrintWriter(System.out, true), new PrintWriter(System.err, true)));
    }

    /** Runs the CLI in-process with the given streams; returns the exit code. Used by tests. */
    public static int execute(String[] args, PrintWriter out, PrintWriter err) {
        boolean verbose = java.util.Arrays.asList(args).contains("--verbose");
        String[] effective = args;
        String firstWord = java.util.Arrays.stream(args).filter(a -> !a.startsWith("-")).findFirst().orElse(null);
        if (firstWord != null && !isCommand(firstWord)) {
            effective = new String[args.length + 1];
            effective[0] = "run";
            System.arraycopy(args, 0, effective, 1, args.length);
        }
        CommandLine cl = new CommandLine(new Main());
        cl.setOut(out);
        cl.setErr(err);
        cl.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            int code;
            if (e instanceof OnnxrunException oe) {
                err.println("onnxrun: " + oe.getMessage());
                code = oe.kind() == OnnxrunException.Kind.INTERNAL ? EXIT_INTERNAL : EXIT_INVALID;
            } else if (e instanceof CommandLine.ParameterException pe) {
                err.println("onnxrun: " + pe.getMessage());
                code = EXIT_USAGE;
            } else {
                err.println("onnxrun: internal error: " + e + (verbose ? "" : " (run with --verbose for details)"));
                code = EXIT_INTERNAL;
            }
            if (verbose) e.printStackTrace(err);
            return code;
        });
        cl.setParameterExceptionHandler((e, a) -> {
            err.println("onnxrun: " + e.getMessage());
            err.println("Try 'onnxrun --help' for more information.");
            return EXIT_USAGE;
        });
        int code = cl.execute(effective);
        out.flush();
        err.flush();
        return code;
    }

    private static boolean isCommand(String arg) {
        return switch (arg) {
            case "run", "test", "inspect", "bench", "ops", "check", "compile", "train", "grad", "help" -> true;
            default -> false;
        };
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"onnxrun " + (v == null ? "0.1.0-SNAPSHOT" : v)};
        }
    }
}
