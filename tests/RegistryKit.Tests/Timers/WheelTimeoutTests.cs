using RegistryKit.Testing;
using RegistryKit.Timers;

namespace RegistryKit.Tests.Timers;

public class WheelTimeoutTests
{
    private ManualTimeProvider _time = null!;
    private HashedWheelTimer _timer = null!;

    [SetUp]
    public void SetUp()
    {
        _time = new ManualTimeProvider();
        _timer = new HashedWheelTimer(_time, new HashedWheelTimerOptions { TickDuration = TimeSpan.FromMilliseconds(10) });
    }

    [TearDown]
    public void TearDown() => _timer.Dispose();

    [Test]
    public void Default_IsNoTimeout()
    {
        WheelTimeout timeout = default;

        Assert.Multiple(() =>
        {
            Assert.That(timeout.Status, Is.EqualTo(TimeoutStatus.None));
            Assert.That(timeout.IsPending, Is.False);
            Assert.That(timeout.IsCancelled, Is.False);
            Assert.That(timeout.IsExpired, Is.False);
            Assert.That(timeout.Cancel(), Is.False);
            Assert.That(timeout.Timer, Is.Null);
        });
    }

    [Test]
    public void StaleHandle_AfterNodeReuse_CannotCancelTheNewTimeout()
    {
        WheelTimeout first = _timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        first.Cancel();

        bool secondRan = false;
        WheelTimeout second = _timer.NewTimeout(_ => secondRan = true, TimeSpan.FromSeconds(1));

        Assert.That(_timer.PooledNodes, Is.Zero, "the second timeout should have reused the first one's node");
        Assert.That(first.Cancel(), Is.False);
        Assert.That(first.IsCancelled, Is.True);
        Assert.That(second.IsPending, Is.True);
        Assert.That(first, Is.Not.EqualTo(second));

        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(secondRan, Is.True);
        Assert.That(second.IsExpired, Is.True);
        Assert.That(first.IsCancelled, Is.True, "the stale handle must still report its own outcome");
    }

    [Test]
    public void StaleHandle_OfExpiredTimeout_ReportsExpiredWhileNodeServesOthers()
    {
        WheelTimeout expired = _timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        for (int i = 0; i < 30; i++)
        {
            _timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1)).Cancel();
        }

        Assert.That(expired.Status, Is.EqualTo(TimeoutStatus.Expired));
    }

    [Test]
    public void StaleHandle_OfCancelledTimeout_ExactFor30ReusesThenForgotten()
    {
        WheelTimeout cancelled = _timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        cancelled.Cancel();

        for (int i = 0; i < 30; i++)
        {
            _timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(10));
            _time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.That(cancelled.Status, Is.EqualTo(TimeoutStatus.Cancelled));

        _timer.NewTimeout(_ => { }, TimeSpan.FromMilliseconds(10));
        _time.Advance(TimeSpan.FromMilliseconds(10));

        Assert.That(cancelled.Status, Is.EqualTo(TimeoutStatus.Expired), "past 30 reuses the outcome is forgotten and reads as finished");
        Assert.That(cancelled.Cancel(), Is.False);
    }

    [Test]
    public void Equality_SameTimeout_Equal()
    {
        WheelTimeout timeout = _timer.NewTimeout(_ => { }, TimeSpan.FromSeconds(1));
        WheelTimeout copy = timeout;

        Assert.That(copy == timeout, Is.True);
        Assert.That(copy.GetHashCode(), Is.EqualTo(timeout.GetHashCode()));
        Assert.That(timeout.Timer, Is.SameAs(_timer));
        Assert.That(timeout.ToString(), Is.EqualTo("WheelTimeout(Pending)"));
    }
}
