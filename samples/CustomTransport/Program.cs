using Microsoft.Extensions.Logging;
using RegistryKit.Samples.CustomTransport.Master;
using RegistryKit.Samples.CustomTransport.Worker;

const string Help = """
    RegistryKit CustomTransport: a small HTTP master (registry with sessions, revisions and watches; worker registration
    and heartbeats with health reports), a registry transport for it ('mymaster://'), and a worker that uses both.

    Usage: dotnet run --project samples/CustomTransport [-- options]

      (no option)          start an active and a standby master in this process and run the story: the worker
                           registers and heartbeats with health reports, registers 'greeter' through the adapter,
                           the master restarts with its state lost, everything registers again, the worker stops
                           and deregisters (about 10 s)
      --master URL         run the story against a master started elsewhere (repeat for several; no restart)
      --serve [--port N]   run only a master on 127.0.0.1 (port N, or a free one) until Ctrl+C
      --verbose            show RegistryKit's information logs, not only warnings
      --help               this text

    Exit code 0 when every phase ended as it should (or on Ctrl+C), 1 otherwise, 2 for a bad option.
    """;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine(Help);
    return 0;
}

var masters = new List<string>();
bool serve = false, verbose = false;
int port = 0;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--serve":
            serve = true;
            break;
        case "--verbose":
            verbose = true;
            break;
        case "--master" when i + 1 < args.Length && Uri.TryCreate(args[i + 1], UriKind.Absolute, out Uri? master) && master.Scheme == Uri.UriSchemeHttp:
            masters.Add(master.GetLeftPart(UriPartial.Authority));
            i++;
            break;
        case "--port" when i + 1 < args.Length && int.TryParse(args[i + 1], out port) && port is >= 0 and <= 65_535:
            i++;
            break;
        default:
            Console.Error.WriteLine($"Unknown or incomplete option '{args[i]}' (--master takes an http:// URL, --port a number from 0 to 65535). Run with --help for the options.");
            return 2;
    }
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};

if (serve)
{
    await using MasterServer server = await MasterServer.StartAsync(new MasterServerOptions { Port = port });
    Console.WriteLine($"Master listening on {server.Address}. Press Ctrl+C to stop.");
    Console.WriteLine($"Run a worker against it: dotnet run --project samples/CustomTransport -- --master {server.Address}");
    await Task.Delay(Timeout.Infinite, stop.Token).ContinueWith(_ => { }, TaskScheduler.Default);
    return 0;
}

using ILoggerFactory logging = LoggerFactory.Create(builder => builder
    .AddSimpleConsole(console => console.SingleLine = true)
    .SetMinimumLevel(verbose ? LogLevel.Information : LogLevel.Warning));
try
{
    return await WorkerStory.RunAsync(Console.Out, new StoryOptions(masters, TimeSpan.FromSeconds(30)), logging, stop.Token);
}
catch (OperationCanceledException) when (stop.IsCancellationRequested)
{
    Console.WriteLine("Stopped by Ctrl+C; the worker deregistered.");
    return 0;
}
