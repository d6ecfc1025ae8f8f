using RegistryKit.Samples.Quickstart;
using RegistryKit.Testing;
using RegistryKit.Tests.Support;

namespace RegistryKit.Tests.Samples;

/// <summary>The README's main command, in its short form, on virtual time: every phase happens and it exits 0.</summary>
[CancelAfter(60_000)]
public class QuickstartTests
{
    [Test]
    public async Task Fast_RunsEveryPhaseInOrder_AndExitsZero()
    {
        var time = new ManualTimeProvider();
        using var output = new StringWriter();
        Task<int> run = QuickstartStory.RunAsync(output, QuickstartTimings.For(fast: true), time, TestContext.CurrentContext.CancellationToken);
        while (!run.IsCompleted)
        {
            TestContext.CurrentContext.CancellationToken.ThrowIfCancellationRequested();
            time.Advance(TimeSpan.FromMilliseconds(20));
            await VirtualTimeDriver.YieldBehindQueuedWork();
        }

        int exitCode = await run;
        string text = output.ToString();

        Assert.That(exitCode, Is.Zero, text);
        string[] phases = ["register", "heartbeat", "outage", "cache", "recover", "stop", "summary"];
        int[] positions = [.. phases.Select(phase => text.IndexOf($"] {phase}", StringComparison.Ordinal))];
        Assert.That(positions, Is.All.GreaterThanOrEqualTo(0), text);
        Assert.That(positions, Is.Ordered, text);
        Assert.That(text, Does.Contain("a consumer started now sees 20880, 20881 from the disk cache"));
        Assert.That(text, Does.Contain("consumer sees 20880\n").Or.Contain("consumer sees 20880\r\n"));
        Assert.That(text, Does.Not.Contain("FAILED"));
    }
}
