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
        Assert.That(QuickstartStory.PhasePositions(text), Is.Ordered.And.Not.Contain(-1), text);
        Assert.That(text, Does.Contain("a consumer started now sees 20880, 20881 from the disk cache"));
        Assert.That(text, Does.Contain("consumer sees 20880\n").Or.Contain("consumer sees 20880\r\n"));
        Assert.That(text, Does.Match(@"\| [1-9]\d* session recoveries"), "the registry restarted empty, so both providers recovered their sessions");
        Assert.That(text, Does.Match(@"register calls [1-9]\d* ok, [1-9]\d* failed and retried"), "the summary counts from the RegistryKit meter");
        Assert.That(text, Does.Not.Contain("FAILED"));
    }
}
