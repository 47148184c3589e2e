import ArgumentParser

/// `imagegen-bench`: the benchmarks of issue 5, built in release and run by hand (see
/// BENCHMARKS.md). Each subcommand prints a table (and JSON with `--json`) whose headline figures
/// are ratios measured within one run, and the command line that reproduces it.
@main
struct ImageGenBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "imagegen-bench",
        abstract: "Benchmarks: rate-bound throughput, continuity chains, scale, RPC, load.",
        subcommands: [
            RateCommand.self, ContinuityCommand.self, ScaleCommand.self, ScaleRunCommand.self, RPCCommand.self,
            LoadCommand.self, BatchCommand.self, CoordinationCommand.self,
        ])
}
