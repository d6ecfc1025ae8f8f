namespace RegistryKit.Simulation.Tests;

/// <summary>What one seed's run did and found.</summary>
internal sealed record SimulationResult(int Seed, string TraceHash, IReadOnlyList<string> Violations, long FaultsInjected, int Operations, TimeSpan VirtualTime)
{
    /// <summary>The one line that replays this seed.</summary>
    public string ReplayLine =>
        $"SIMULATION_SEED={Seed} dotnet test tests/RegistryKit.Simulation.Tests -c Release --filter FullyQualifiedName~RegistrySimulationTests.Replay";
}
