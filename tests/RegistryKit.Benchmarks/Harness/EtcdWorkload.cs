using System.Diagnostics;
using System.Globalization;
using RegistryKit.Etcd;
using RegistryKit.Registry;

namespace RegistryKit.Benchmarks.Harness;

/// <summary>
/// The etcd figures of issue 7: how fast the client registers services on one lease against a local etcd, and what
/// keeping them registered costs this process once it is steady (one keep-alive per TTL/3 for the whole lease).
/// </summary>
internal static class EtcdWorkload
{
    public static async Task RunAsync(string endpoint, int services, TimeSpan steady, TimeSpan settle)
    {
        string root = "/registrykit-bench-" + Guid.NewGuid().ToString("N");
        await using var factory = new RegistryFactory(
            [new("etcd", new EtcdRegistryTransportFactory())],
            new RegistryOptions { CacheEnabled = false });
        IRegistry registry = await factory.GetRegistryAsync(ServiceUrl.Parse($"etcd://{endpoint}{root}"));
        ServiceUrl[] urls =
        [
            .. Enumerable.Range(0, services).Select(i => ServiceUrl.Create(
                "tri", "10.0.0.7", 20000 + (i % 40000), $"com.example.Service{i}", [new("application", "bench")])),
        ];

        // Warm-up: the session, the connection pool and the JIT, on a service of its own.
        await registry.RegisterAsync(ServiceUrl.Create("tri", "10.0.0.7", 1, "com.example.WarmUp"));

        var clock = Stopwatch.StartNew();
        foreach (ServiceUrl url in urls)
        {
            await registry.RegisterAsync(url);
        }

        double registerSeconds = clock.Elapsed.TotalSeconds;
        RegistryStatus status = registry.GetStatus();
        if (status.PendingRetries.Total != 0)
        {
            throw new InvalidOperationException($"{status.PendingRetries.Total} registrations failed and wait to be retried: the figure would be wrong.");
        }

        // Steady state: nothing to do but keep the one lease alive. The settle lets the runtime finish what the burst
        // started (tiered JIT recompiles, a GC) before the clock starts.
        await Task.Delay(settle);
        (TimeSpan cpuTime, TimeSpan wallTime) = Cpu.QuietWindow(steady);
        double wall = wallTime.TotalSeconds;
        double cpu = cpuTime.TotalSeconds;

        Console.WriteLine(string.Create(
            CultureInfo.InvariantCulture,
            $"RESULT etcd services={services} registrations_per_sec={services / registerSeconds:0} register_ms_per_op={registerSeconds * 1000 / services:0.###} heartbeat_cpu_pct_of_core={cpu / wall * 100:0.###} steady_seconds={wall:0.#} heartbeat_interval_s={status.HeartbeatInterval?.TotalSeconds:0.#}"));
    }
}
