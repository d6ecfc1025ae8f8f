using Microsoft.Extensions.Logging;
using RegistryKit.Samples.Quickstart;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        RegistryKit Quickstart: two providers of 'greeter' and a consumer, through a registry outage after which the
        registry has lost them, and back. Runs on the embedded in-memory registry unless --etcd is given.

        Usage: dotnet run --project samples/Quickstart [-- [--fast] [--etcd http://127.0.0.1:2379] [--verbose]]

          --fast         short timings (2 s sessions, 2 s outage): the whole story in a few seconds
          --etcd <url>   run against the etcd whose gateway is at <url> (http only). The outage is played by cutting
                         the clients' connections to it for longer than a session lives, so etcd expires their leases.
          --verbose      also print RegistryKit's own logs (Information and up)
          --help         this text

        Exit code 0 when every phase ended as it should, 1 when one did not, 2 for bad options or an unreachable etcd.
        """);
    return 0;
}

bool fast = false, verbose = false;
Uri? etcd = null;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--fast":
            fast = true;
            break;
        case "--verbose":
            verbose = true;
            break;
        case "--etcd" when i + 1 < args.Length:
            if (!Uri.TryCreate(args[++i], UriKind.Absolute, out etcd) || etcd.Scheme != Uri.UriSchemeHttp || etcd.AbsolutePath != "/")
            {
                Console.Error.WriteLine($"--etcd '{args[i]}' is not an etcd gateway address. Use a form such as 'http://127.0.0.1:2379'.");
                return 2;
            }

            break;
        case "--etcd":
            Console.Error.WriteLine("--etcd needs the etcd gateway's address, such as 'http://127.0.0.1:2379'.");
            return 2;
        default:
            Console.Error.WriteLine($"Unknown option '{args[i]}'. Run with --help for the options.");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

QuickstartTimings timings = QuickstartTimings.For(fast);
using ILoggerFactory? logs = verbose ? LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information)) : null;
try
{
    if (etcd is null)
    {
        return await QuickstartStory.RunAsync(Console.Out, timings, TimeProvider.System, registry: null, logs, stop.Token);
    }

    if (await EtcdQuickstartRegistry.ProbeAsync(etcd, stop.Token) is { } problem)
    {
        Console.Error.WriteLine(problem);
        return 2;
    }

    return await QuickstartStory.RunAsync(Console.Out, timings, TimeProvider.System, new EtcdQuickstartRegistry(etcd, TimeProvider.System, logs), logs, stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.Error.WriteLine("Stopped (Ctrl+C).");
    return 130;
}
