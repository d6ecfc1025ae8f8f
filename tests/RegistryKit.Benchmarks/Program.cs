using System.Globalization;
using RegistryKit.Benchmarks;

// One line per workload: RESULT <workload> key=value key=value ...
// Workloads: etcd [--endpoint 127.0.0.1:2379] [--services 1000] [--seconds 30] [--settle 10]
if (args.Length == 0 || args[0] is "-h" or "--help")
{
    Console.WriteLine("""
        Usage: dotnet run -c Release --project tests/RegistryKit.Benchmarks -- <workload> [options]

        Workloads:
          etcd   1,000 services registered on one lease against a running etcd, then the steady heartbeat cost.
                 --endpoint <host:port>  etcd's client address (default 127.0.0.1:2379)
                 --services <n>          services to register (default 1000)
                 --seconds <n>           how long to measure the steady heartbeats (default 30)
                 --settle <n>            seconds to wait after registering before measuring (default 10)
        """);
    return args.Length == 0 ? 1 : 0;
}

string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}

switch (args[0])
{
    case "etcd":
        await EtcdWorkload.RunAsync(
            Option("--endpoint", "127.0.0.1:2379"),
            int.Parse(Option("--services", "1000"), CultureInfo.InvariantCulture),
            TimeSpan.FromSeconds(double.Parse(Option("--seconds", "30"), CultureInfo.InvariantCulture)),
            TimeSpan.FromSeconds(double.Parse(Option("--settle", "10"), CultureInfo.InvariantCulture)));
        return 0;
    default:
        Console.Error.WriteLine($"Unknown workload '{args[0]}'. Run with --help for the list.");
        return 2;
}
