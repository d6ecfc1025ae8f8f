using System.Globalization;

namespace RegistryKit.Simulation.Tests;

/// <summary>The seeded simulation: many seeds, each replayable from one line.</summary>
public class RegistrySimulationTests
{
    /// <summary>Seeds run by default (about three minutes here); SIMULATION_SEEDS runs more, SIMULATION_FIRST_SEED moves the range.</summary>
    private const int DefaultSeeds = 1000;

    [Test]
    [CancelAfter(1_800_000)]
    public async Task Seeds_HoldEveryInvariant()
    {
        int count = Setting("SIMULATION_SEEDS", DefaultSeeds);
        int first = Setting("SIMULATION_FIRST_SEED", 1);
        string? traces = Environment.GetEnvironmentVariable("SIMULATION_TRACE_DIR"); // a failing seed's trace and logs go there
        string? hashes = Environment.GetEnvironmentVariable("SIMULATION_HASHES"); // each seed's trace hash, to compare two runs
        var failed = new List<SimulationResult>();
        long faults = 0, operations = 0;
        TimeSpan virtualTime = TimeSpan.Zero;
        for (int seed = first; seed < first + count; seed++)
        {
            TestContext.CurrentContext.CancellationToken.ThrowIfCancellationRequested();
            using StringWriter? trace = traces is null ? null : new StringWriter();
            SimulationResult result = await RegistrySimulation.RunAsync(seed, trace);
            if (traces is not null && (result.Violations.Count > 0 || Environment.GetEnvironmentVariable("SIMULATION_TRACE_ALL") == "1"))
            {
                await File.WriteAllTextAsync(Path.Combine(traces, $"seed-{seed}.txt"), string.Join(Environment.NewLine, [.. result.Violations, trace!.ToString()]));
            }

            if (hashes is not null)
            {
                await File.AppendAllTextAsync(hashes, $"{seed} {result.TraceHash} {result.FaultsInjected}{Environment.NewLine}");
            }

            faults += result.FaultsInjected;
            operations += result.Operations;
            virtualTime += result.VirtualTime;
            if (result.Violations.Count > 0)
            {
                failed.Add(result);
            }
        }

        TestContext.Out.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"{count} seeds from {first}: {operations} operations, {faults} faults injected, {virtualTime.TotalHours:0.0} h of virtual time, {failed.Count} seeds with violations."));
        Assert.That(
            failed,
            Is.Empty,
            string.Join(Environment.NewLine, failed.Take(5).Select(f => $"seed {f.Seed}: {f.Violations[0]}{Environment.NewLine}  replay: {f.ReplayLine}")));
    }

    /// <summary>The seeds that found each violation, replayed in every run (each failed before its fix).</summary>
    [TestCase(355, TestName = "Seed355_AnOlderProcessLateUnregister_LeavesTheNewerRegistration")]
    [TestCase(1562, TestName = "Seed1562_ARegisterDelayedPastARecovery_IsWrittenAgainOnTheNewSession")]
    [TestCase(6830, TestName = "Seed6830_ASupersededRegisterRetryWhoseReplyWasLost_IsUndone")]
    [CancelAfter(60_000)]
    public async Task FoundSeeds_StayFixed(int seed)
    {
        SimulationResult result = await RegistrySimulation.RunAsync(seed);

        Assert.That(result.Violations, Is.Empty, string.Join(Environment.NewLine, [.. result.Violations, result.ReplayLine]));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task SameSeed_RunTwice_SameTrace()
    {
        foreach (int seed in new[] { 7, 42, 1234 })
        {
            SimulationResult first = await RegistrySimulation.RunAsync(seed);
            SimulationResult second = await RegistrySimulation.RunAsync(seed);

            Assert.That(second.TraceHash, Is.EqualTo(first.TraceHash), $"seed {seed} ran differently the second time: {first.ReplayLine}");
            Assert.That(second.FaultsInjected, Is.EqualTo(first.FaultsInjected));
        }
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Smoke()
    {
        SimulationResult result = await RegistrySimulation.RunAsync(1);
        TestContext.Out.WriteLine($"seed 1: {result.Operations} operations, {result.FaultsInjected} faults, {result.VirtualTime}, trace {result.TraceHash}");
        Assert.That(result.Violations, Is.Empty, string.Join(Environment.NewLine, [.. result.Violations, result.ReplayLine]));
    }

    [Test]
    [CancelAfter(60_000)]
    public async Task Replay()
    {
        string? seed = Environment.GetEnvironmentVariable("SIMULATION_SEED");
        Assume.That(seed, Is.Not.Null, "Set SIMULATION_SEED to replay one seed.");
        string? tracePath = Environment.GetEnvironmentVariable("SIMULATION_TRACE");
        await using TextWriter? trace = tracePath is null ? null : File.CreateText(tracePath);
        SimulationResult result = await RegistrySimulation.RunAsync(int.Parse(seed!, CultureInfo.InvariantCulture), trace);
        TestContext.Out.WriteLine($"seed {seed}: {result.Operations} operations, {result.FaultsInjected} faults, {result.VirtualTime}, trace {result.TraceHash}");
        Assert.That(result.Violations, Is.Empty, string.Join(Environment.NewLine, result.Violations));
    }

    private static int Setting(string name, int fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? int.Parse(value, CultureInfo.InvariantCulture) : fallback;
}
