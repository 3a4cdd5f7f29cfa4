/*
 * A disassembler plugin for HotSpot's -XX:+PrintAssembly, on LLVM's C disassembler API: the JVM
 * loads hsdis-amd64.so from its library path and calls decode_instructions_virtual for each
 * block of compiled code. Built by `benchmarks/run jit` (see the README's "JIT diagnostics").
 */
#include <stdint.h>
#include <stddef.h>
#include <llvm-c/Disassembler.h>

void LLVMInitializeX86TargetInfo(void);
void LLVMInitializeX86TargetMC(void);
void LLVMInitializeX86Disassembler(void);

typedef void *(*event_callback)(void *stream, const char *event, void *arg);
typedef int (*printf_callback)(void *stream, const char *format, ...);

static LLVMDisasmContextRef disassembler;

/* The entry point HotSpot looks up: decode [start, end), reporting each instruction as an event pair. */
void *decode_instructions_virtual(uintptr_t start, uintptr_t end, unsigned char *code, uintptr_t length,
                                  event_callback event, void *event_stream, printf_callback print, void *print_stream,
                                  const char *options, int newline) {
    (void) length;
    (void) options;
    if (disassembler == NULL) {
        LLVMInitializeX86TargetInfo();
        LLVMInitializeX86TargetMC();
        LLVMInitializeX86Disassembler();
        /* a recent CPU name, so AVX-512 instructions decode; Intel syntax, as HotSpot's own listings */
        disassembler = LLVMCreateDisasmCPU("x86_64-pc-linux", "sapphirerapids", NULL, 0, NULL, NULL);
        LLVMSetDisasmOptions(disassembler, LLVMDisassembler_Option_AsmPrinterVariant);
    }
    char text[256];
    uintptr_t pc = start;
    while (pc < end) {
        event(event_stream, "insn", (void *) pc);
        size_t size = LLVMDisasmInstruction(disassembler, code + (pc - start), end - pc, pc, text, sizeof text);
        if (size == 0) {
            print(print_stream, "(bad)");
            size = 1;
        } else {
            print(print_stream, "%s", text);
        }
        pc += size;
        event(event_stream, "/insn", (void *) pc);
        if (newline) print(print_stream, "\n");
    }
    return (void *) pc;
}
