import Foundation

#if LINK_FUZZ
    /// libFuzzer's entry point; built only by scripts/fuzz-link.sh with
    /// `-sanitize=fuzzer -parse-as-library -DLINK_FUZZ`.
    @_cdecl("LLVMFuzzerTestOneInput")
    public func linkFuzzTestOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
        FuzzHarness.run(UnsafeBufferPointer(start: data, count: size))
        return 0
    }

    /// SwiftPM links executables with `--defsym main=LinkFuzz_main` (its
    /// renamed entry point, so tests can import executables); libFuzzer
    /// brings a `main` of its own, linked whole-archive. This is that
    /// renamed entry point: it runs libFuzzer's driver, as libFuzzer's
    /// `main` would, or writes the seed corpus when asked (`seeds DIR`).
    @_cdecl("LinkFuzz_main")
    public func linkFuzzMain(
        _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>
    ) -> CInt {
        if argc == 3, let mode = argv[1], String(cString: mode) == "seeds", let dir = argv[2] {
            return seedsCommand(dir: String(cString: dir))
        }
        var argc = argc
        var argv = argv
        return llvmFuzzerRunDriver(&argc, &argv) { data, size in linkFuzzTestOneInput(data, size) }
    }

    @_extern(c, "LLVMFuzzerRunDriver")
    func llvmFuzzerRunDriver(
        _ argc: UnsafeMutablePointer<CInt>,
        _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
        _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt
    ) -> CInt
#else
    /// The plain build: writes the seed corpus, so that the package builds
    /// without libFuzzer and the fuzzer starts from authentic frames.
    @main
    enum LinkFuzzSeeds {
        static func main() {
            let args = CommandLine.arguments
            guard args.count == 3, args[1] == "seeds" else {
                print("usage: LinkFuzz seeds DIRECTORY   (fuzz with scripts/fuzz-link.sh)")
                exit(2)
            }
            exit(seedsCommand(dir: args[2]))
        }
    }
#endif

/// Writes the seed corpus: authentic frames and payloads of every message.
func seedsCommand(dir: String) -> CInt {
    do {
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        let seeds = try FuzzHarness.seeds()
        for (i, seed) in seeds.enumerated() {
            try Data(seed).write(to: URL(fileURLWithPath: "\(dir)/seed-\(i)"))
        }
        print("wrote \(seeds.count) seeds to \(dir)")
        return 0
    } catch {
        print("cannot write seeds to \(dir): \(error)")
        return 1
    }
}
