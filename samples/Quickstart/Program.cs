using RegistryKit.Samples.Quickstart;

if (args.Contains("--help") || args.Contains("-h"))
{
    Console.WriteLine("""
        RegistryKit Quickstart: two providers of 'greeter' and a consumer on the embedded in-memory registry, through an
        outage in which the registry restarts with its state lost, and back.

        Usage: dotnet run --project samples/Quickstart [-- --fast]

          --fast   short timings (2 s sessions, 2 s outage): the whole story in a few seconds
          --help   this text

        Exit code 0 when every phase ended as it should, 1 otherwise.
        """);
    return 0;
}

string? unknown = args.FirstOrDefault(a => a is not "--fast");
if (unknown is not null)
{
    Console.Error.WriteLine($"Unknown option '{unknown}'. Run with --help for the options.");
    return 2;
}

return await QuickstartStory.RunAsync(Console.Out, QuickstartTimings.For(fast: args.Contains("--fast")), TimeProvider.System, CancellationToken.None);
