using RegistryKit.Samples.Quickstart;

namespace RegistryKit.Etcd.Tests;

/// <summary>
/// <c>dotnet run --project samples/Quickstart -- --fast --etcd ...</c>, in process: the same story on a real etcd, whose
/// outage is the clients' connections cut for longer than a session lives. Real time, as etcd's leases are.
/// </summary>
[CancelAfter(90_000)]
public class QuickstartOnEtcdTests
{
    [Test]
    public async Task Fast_OnEtcd_RunsEveryPhaseAndExitsZero()
    {
        EtcdServer etcd = await EtcdServer.RequireSharedAsync();
        CancellationToken token = TestContext.CurrentContext.CancellationToken;
        var address = new Uri($"http://127.0.0.1:{etcd.ClientPort}/");
        using var output = new StringWriter();

        Assert.That(await EtcdQuickstartRegistry.ProbeAsync(address, token), Is.Null);
        int exitCode = await QuickstartStory.RunAsync(
            output, QuickstartTimings.For(fast: true), TimeProvider.System, new EtcdQuickstartRegistry(address, TimeProvider.System), loggerFactory: null, token);
        string text = output.ToString();

        Assert.That(exitCode, Is.Zero, text);
        Assert.That(QuickstartStory.PhasePositions(text), Is.Ordered.And.Not.Contain(-1), text);
        Assert.That(text, Does.Contain("etcd expires the leases"));
        Assert.That(text, Does.Contain("it holds 2 providers again"));
        Assert.That(text, Does.Match(@"\| [1-9]\d* session recoveries"), "the leases expired, so both providers had to recover their sessions");
    }

    [Test]
    public async Task Probe_NothingListening_SaysHowToStartEtcd()
    {
        string? problem = await EtcdQuickstartRegistry.ProbeAsync(new Uri("http://127.0.0.1:1/"), TestContext.CurrentContext.CancellationToken);

        Assert.That(problem, Does.Contain("did not answer").And.Contain("--etcd"));
    }
}
