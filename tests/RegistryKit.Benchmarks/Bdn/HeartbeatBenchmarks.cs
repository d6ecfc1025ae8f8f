using BenchmarkDotNet.Attributes;
using RegistryKit.Benchmarks.Harness;
using RegistryKit.Registry;
using RegistryKit.Testing;

namespace RegistryKit.Benchmarks.Bdn;

/// <summary>
/// The heartbeat path on virtual time: 1,000 registries (one session each) on one wheel; one invocation advances the
/// clock by one interval, so every session beats once: wheel expiry, the engine's fixed-rate re-arm, the keep-alive
/// call (a no-op transport).
/// </summary>
[MemoryDiagnoser]
public class HeartbeatBenchmarks
{
    private const int Sessions = 1000;
    private static readonly TimeSpan s_interval = TimeSpan.FromSeconds(5);
    private readonly ManualTimeProvider _clock = new();
    private readonly NoOpTransport _transport = new(s_interval);
    private RegistryFactory _factory = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        var options = new RegistryOptions { CacheEnabled = false, HeartbeatInterval = s_interval, SessionTtl = s_interval * 3 };
        _factory = new RegistryFactory([new("noop", _transport)], options, _clock);
        for (int i = 0; i < Sessions; i++)
        {
            _ = await _factory.GetRegistryAsync(ServiceUrl.Parse($"noop://127.0.0.1:2379/r{i}"));
        }
    }

    [GlobalCleanup]
    public async Task CleanupAsync() => await _factory.DisposeAsync();

    [Benchmark(OperationsPerInvoke = Sessions)]
    public long Beat()
    {
        _clock.Advance(s_interval);
        return _transport.KeepAlives;
    }
}
