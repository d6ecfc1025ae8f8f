using System.Globalization;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using RegistryKit.Benchmarks.Harness;

// One line per workload (and per baseline): RESULT <workload> key=value key=value ...
// docs/benchmarks.md has the commands, the figures and what they mean.
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("""
        Usage: dotnet run -c Release --project tests/RegistryKit.Benchmarks -- <workload> [arguments] [options]

        Workloads (sizes default to issue 10's; smaller ones make a quick run):
          wheel-schedule [count]           schedule count timeouts (1-10 s) then cancel them all (default 1000000)
          wheel-schedcancel [pairs]        schedule then cancel at once, pairs times (default 1000000)
          wheel-lateness [count] [ms]      count timeouts due after ms: how late they run (default 100000, 100)
          wheel-idle [seconds]             process CPU with nothing pending (default 10)
          heartbeat <N> <P-ms>             N registries (one session each) heartbeating every P ms, no-op transport
          heartbeat-wheel <N> <P-ms>       the wheel alone: one self-re-arming timeout per session, no engine
          heartbeat-timer <N> <P-ms>       the same with one System.Threading.Timer per session
                                           all three: --seconds <n> window (default 10), --settle <n> (default 2)
                                           heartbeat, heartbeat-wheel: --tick <ms> a wheel of that tick instead of
                                                      the default (100 ms)
                                           heartbeat: --wheel <n> a wheel of that many buckets instead
          failback-storm [n] [outage-s]    n registrations, registry down outage-s, then back; virtual time
                                           (default 10000, 60)
          etcd                             1,000 services on one lease against a running etcd, then the steady cost
                 --endpoint <host:port>  etcd's client address (default 127.0.0.1:2379)
                 --services <n>          services to register (default 1000)
                 --seconds <n>           how long to measure the steady heartbeats (default 30)
                 --settle <n>            seconds to wait after registering before measuring (default 10)
          smoke [--etcd <host:port>]       every workload once on tiny sizes (CI); etcd only when given an endpoint
          bdn [BenchmarkDotNet options]    the BenchmarkDotNet benchmarks, e.g. bdn --filter '*'
        """);
    return args.Length == 0 ? 1 : 0;
}

string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

int Positional(int index, int fallback) =>
    args.Length > index && !args[index].StartsWith("--", StringComparison.Ordinal) ? int.Parse(args[index], CultureInfo.InvariantCulture) : fallback;

int Required(int index, string name) =>
    args.Length > index ? int.Parse(args[index], CultureInfo.InvariantCulture) : throw new ArgumentException($"The workload '{args[0]}' needs <{name}>.");

TimeSpan Seconds(string name, double fallback) => TimeSpan.FromSeconds(double.Parse(Option(name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture));

switch (args[0])
{
    case "wheel-schedule":
        WheelWorkloads.Schedule(Positional(1, 1_000_000));
        return 0;
    case "wheel-schedcancel":
        WheelWorkloads.ScheduleCancel(Positional(1, 1_000_000));
        return 0;
    case "wheel-lateness":
        WheelWorkloads.Lateness(Positional(1, 100_000), TimeSpan.FromMilliseconds(Positional(2, 100)));
        return 0;
    case "wheel-idle":
        await WheelWorkloads.IdleAsync(TimeSpan.FromSeconds(Positional(1, 10)), TimeSpan.FromSeconds(2));
        return 0;
    case "heartbeat":
        await HeartbeatWorkload.RunAsync(Required(1, "N"), TimeSpan.FromMilliseconds(Required(2, "P")), Seconds("--seconds", 10), Seconds("--settle", 2),
            Option("--tick", string.Empty) is { Length: > 0 } tick ? TimeSpan.FromMilliseconds(double.Parse(tick, CultureInfo.InvariantCulture)) : null,
            Option("--wheel", string.Empty) is { Length: > 0 } size ? int.Parse(size, CultureInfo.InvariantCulture) : null);
        return 0;
    case "heartbeat-wheel":
        await HeartbeatWorkload.RunWheelAsync(Required(1, "N"), TimeSpan.FromMilliseconds(Required(2, "P")), Seconds("--seconds", 10), Seconds("--settle", 2),
            Option("--tick", string.Empty) is { Length: > 0 } wheelTick ? TimeSpan.FromMilliseconds(double.Parse(wheelTick, CultureInfo.InvariantCulture)) : null);
        return 0;
    case "heartbeat-timer":
        await HeartbeatWorkload.RunTimersAsync(Required(1, "N"), TimeSpan.FromMilliseconds(Required(2, "P")), Seconds("--seconds", 10), Seconds("--settle", 2));
        return 0;
    case "failback-storm":
        await FailbackStormWorkload.RunAsync(Positional(1, 10_000), TimeSpan.FromSeconds(Positional(2, 60)));
        return 0;
    case "etcd":
        await EtcdWorkload.RunAsync(
            Option("--endpoint", "127.0.0.1:2379"),
            int.Parse(Option("--services", "1000"), CultureInfo.InvariantCulture),
            Seconds("--seconds", 30),
            Seconds("--settle", 10));
        return 0;
    case "smoke":
        // Tiny sizes: proves every workload still runs (and throws nothing), not how fast it is.
        WheelWorkloads.Schedule(2_000);
        WheelWorkloads.ScheduleCancel(2_000);
        WheelWorkloads.Lateness(500, TimeSpan.FromMilliseconds(20));
        await WheelWorkloads.IdleAsync(TimeSpan.FromMilliseconds(200), TimeSpan.FromMilliseconds(50));
        await HeartbeatWorkload.RunAsync(500, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(50));
        await HeartbeatWorkload.RunWheelAsync(500, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(50), TimeSpan.FromMilliseconds(10));
        await HeartbeatWorkload.RunTimersAsync(500, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(300), TimeSpan.FromMilliseconds(50));
        await FailbackStormWorkload.RunAsync(100, TimeSpan.FromSeconds(60));
        if (Option("--etcd", string.Empty) is { Length: > 0 } endpoint)
        {
            await EtcdWorkload.RunAsync(endpoint, 10, TimeSpan.FromSeconds(0.5), TimeSpan.Zero);
        }

        return 0;
    case "bdn":
        // In process: BenchmarkDotNet's generated projects would inherit the repository's analyzers and
        // warnings-as-errors. A short job keeps a full run to minutes; pass --job to override it.
        var config = DefaultConfig.Instance.AddJob(Job.ShortRun.WithToolchain(InProcessEmitToolchain.Instance).AsDefault());
        BenchmarkSwitcher.FromAssembly(typeof(Report).Assembly).Run(args[1..], config);
        return 0;
    default:
        Console.Error.WriteLine($"Unknown workload '{args[0]}'. Run with --help for the list.");
        return 2;
}
