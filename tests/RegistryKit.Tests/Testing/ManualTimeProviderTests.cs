using Polly;
using Polly.Timeout;
using RegistryKit.Testing;

namespace RegistryKit.Tests.Testing;

public class ManualTimeProviderTests
{
    [Test]
    public void GetUtcNow_NewProvider_StartsAtDefaultStart()
    {
        var time = new ManualTimeProvider();

        Assert.That(time.GetUtcNow(), Is.EqualTo(ManualTimeProvider.DefaultStart));
    }

    [Test]
    public void CreateTimer_DueNow_DoesNotFireUntilAdvanced()
    {
        var time = new ManualTimeProvider();
        int fired = 0;

        using ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.Zero, Timeout.InfiniteTimeSpan);
        Assert.That(fired, Is.Zero, "a timer must never fire inside CreateTimer");

        time.Advance(TimeSpan.Zero);
        Assert.That(fired, Is.EqualTo(1));
    }

    [Test]
    public void Advance_PastSeveralTimers_FiresInDueOrderWithNowAtEachDueTime()
    {
        var time = new ManualTimeProvider();
        DateTimeOffset start = time.GetUtcNow();
        var fired = new List<(string Name, TimeSpan At)>();
        void Record(object? name) => fired.Add(((string)name!, time.GetUtcNow() - start));

        using ITimer late = time.CreateTimer(Record, "late", TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using ITimer early = time.CreateTimer(Record, "early", TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        using ITimer middle = time.CreateTimer(Record, "middle", TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(fired, Is.EqualTo(new[]
        {
            ("early", TimeSpan.FromSeconds(1)),
            ("middle", TimeSpan.FromSeconds(2)),
            ("late", TimeSpan.FromSeconds(3)),
        }));
        Assert.That(time.GetUtcNow() - start, Is.EqualTo(TimeSpan.FromSeconds(10)));
    }

    [Test]
    public void Advance_TimersDueTogether_FireInCreationOrder()
    {
        var time = new ManualTimeProvider();
        var fired = new List<int>();

        using ITimer first = time.CreateTimer(_ => fired.Add(1), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        using ITimer second = time.CreateTimer(_ => fired.Add(2), null, TimeSpan.FromSeconds(9), Timeout.InfiniteTimeSpan);
        using ITimer third = time.CreateTimer(_ => fired.Add(3), null, TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);
        second.Change(TimeSpan.FromSeconds(5), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(fired, Is.EqualTo(new[] { 1, 2, 3 }));
    }

    [Test]
    public void Advance_PeriodicTimer_FiresAtFixedRate()
    {
        var time = new ManualTimeProvider();
        DateTimeOffset start = time.GetUtcNow();
        var at = new List<TimeSpan>();

        using ITimer timer = time.CreateTimer(_ => at.Add(time.GetUtcNow() - start), null, TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(250));
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.That(at, Is.EqualTo(new[] { 100, 350, 600, 850 }.Select(ms => TimeSpan.FromMilliseconds(ms))));
    }

    [Test]
    public void Change_ToInfinite_StopsTimer()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        using ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(timer.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan), Is.True);
        time.Advance(TimeSpan.FromSeconds(10));

        Assert.That(fired, Is.EqualTo(1));
        Assert.That(time.ScheduledTimers, Is.Zero);
    }

    [Test]
    public void Change_Reschedules_FromCurrentTime()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        using ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromMilliseconds(900));
        timer.Change(TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.That(fired, Is.Zero);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(fired, Is.EqualTo(1));
    }

    [Test]
    public async Task Dispose_PendingTimer_NeverFiresAndChangeReturnsFalse()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);
        Assert.That(time.ScheduledTimers, Is.EqualTo(1));

        await timer.DisposeAsync();
        time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(fired, Is.Zero);
        Assert.That(timer.Change(TimeSpan.Zero, Timeout.InfiniteTimeSpan), Is.False);
        Assert.That(time.ScheduledTimers, Is.Zero);
    }

    [Test]
    public void Advance_CallbackSchedulesAnotherDueWithinTheAdvance_FiresItToo()
    {
        var time = new ManualTimeProvider();
        DateTimeOffset start = time.GetUtcNow();
        TimeSpan? innerAt = null;
        ITimer? inner = null;
        using ITimer outer = time.CreateTimer(
            _ => inner = time.CreateTimer(_ => innerAt = time.GetUtcNow() - start, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan),
            null,
            TimeSpan.FromSeconds(1),
            Timeout.InfiniteTimeSpan);

        time.Advance(TimeSpan.FromSeconds(5));

        Assert.That(innerAt, Is.EqualTo(TimeSpan.FromSeconds(2)));
        inner!.Dispose();
    }

    [Test]
    public void Advance_Negative_ThrowsAndKeepsTime()
    {
        var time = new ManualTimeProvider();
        DateTimeOffset before = time.GetUtcNow();

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => time.Advance(TimeSpan.FromTicks(-1)));

        Assert.That(exception!.ParamName, Is.EqualTo("delta"));
        Assert.That(exception.Message, Does.Contain("never goes backwards"));
        Assert.That(time.GetUtcNow(), Is.EqualTo(before));
    }

    [Test]
    public void SetUtcNow_Earlier_Throws()
    {
        var time = new ManualTimeProvider();
        time.Advance(TimeSpan.FromMinutes(1));

        var exception = Assert.Throws<ArgumentOutOfRangeException>(() => time.SetUtcNow(ManualTimeProvider.DefaultStart));

        Assert.That(exception!.ParamName, Is.EqualTo("value"));
        Assert.That(exception.Message, Does.Contain("never goes backwards"));
    }

    [Test]
    public void SetUtcNow_Later_FiresTimersOnTheWay()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        using ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromHours(1), Timeout.InfiniteTimeSpan);

        time.SetUtcNow(ManualTimeProvider.DefaultStart.AddHours(2));

        Assert.That(fired, Is.EqualTo(1));
        Assert.That(time.GetUtcNow(), Is.EqualTo(ManualTimeProvider.DefaultStart.AddHours(2)));
    }

    [Test]
    public void GetTimestamp_MovesInStepWithUtcNow()
    {
        var time = new ManualTimeProvider();
        long before = time.GetTimestamp();
        DateTimeOffset nowBefore = time.GetUtcNow();

        time.Advance(TimeSpan.FromMilliseconds(1234.5));

        Assert.That(time.GetElapsedTime(before), Is.EqualTo(time.GetUtcNow() - nowBefore));
        Assert.That(time.GetElapsedTime(before), Is.EqualTo(TimeSpan.FromMilliseconds(1234.5)));
    }

    [Test]
    public void GetTimeToNextTimer_ReportsEarliestLiveTimer()
    {
        var time = new ManualTimeProvider();
        Assert.That(time.GetTimeToNextTimer(), Is.Null);

        using ITimer a = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(3), Timeout.InfiniteTimeSpan);
        using ITimer b = time.CreateTimer(_ => { }, null, TimeSpan.FromSeconds(2), Timeout.InfiniteTimeSpan);
        b.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

        Assert.That(time.GetTimeToNextTimer(), Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public void CreateTimer_DueBeyondSystemTimerLimit_ThrowsLikeTheRealClock()
    {
        var time = new ManualTimeProvider();

        Assert.That(
            () => time.CreateTimer(_ => { }, null, TimeSpan.MaxValue, Timeout.InfiniteTimeSpan),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("dueTime"));
        Assert.That(
            () => time.CreateTimer(_ => { }, null, TimeSpan.Zero, ManualTimeProvider.MaxTimerDelay + TimeSpan.FromMilliseconds(1)),
            Throws.InstanceOf<ArgumentOutOfRangeException>().With.Property("ParamName").EqualTo("period"));
        Assert.That(() => time.CreateTimer(_ => { }, null, ManualTimeProvider.MaxTimerDelay, Timeout.InfiniteTimeSpan).Dispose(), Throws.Nothing);
    }

    [Test]
    public void Change_ManyTimes_KeepsTheQueueBounded()
    {
        var time = new ManualTimeProvider();
        int fired = 0;
        using ITimer timer = time.CreateTimer(_ => fired++, null, TimeSpan.FromSeconds(1), Timeout.InfiniteTimeSpan);

        for (int i = 0; i < 10_000; i++)
        {
            timer.Change(TimeSpan.FromSeconds(1 + (i % 7)), Timeout.InfiniteTimeSpan);
        }

        Assert.That(time.QueueLength, Is.LessThan(100));
        time.Advance(TimeSpan.FromSeconds(10));
        Assert.That(fired, Is.EqualTo(1));
    }

    [Test]
    public void TaskDelay_CompletesOnlyWhenTimeIsAdvanced()
    {
        var time = new ManualTimeProvider();

        Task delay = Task.Delay(TimeSpan.FromSeconds(1), time);
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.That(delay.IsCompleted, Is.False);

        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.That(delay.IsCompletedSuccessfully, Is.True);
    }

    [Test]
    public void CancellationTokenSource_WithDelay_CancelsWhenTimeIsAdvanced()
    {
        var time = new ManualTimeProvider();
        using var source = new CancellationTokenSource(TimeSpan.FromSeconds(30), time);

        time.Advance(TimeSpan.FromSeconds(29));
        Assert.That(source.IsCancellationRequested, Is.False);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.That(source.IsCancellationRequested, Is.True);
    }

    [Test]
    public void PollyTimeout_FiresOnVirtualTime()
    {
        var time = new ManualTimeProvider();
        ResiliencePipeline pipeline = new ResiliencePipelineBuilder { TimeProvider = time }
            .AddTimeout(TimeSpan.FromSeconds(2))
            .Build();

        ValueTask<int> attempt = pipeline.ExecuteAsync(
            async token =>
            {
                await Task.Delay(TimeSpan.FromSeconds(10), time, token);
                return 1;
            },
            CancellationToken.None);
        Assert.That(attempt.IsCompleted, Is.False);

        time.Advance(TimeSpan.FromSeconds(2));

        Assert.That(async () => await attempt, Throws.TypeOf<TimeoutRejectedException>());
    }
}
