namespace RegistryKit.Benchmarks.Harness;

/// <summary>The system clock, counting how often a timer it created calls back (the wheel's wake-ups).</summary>
internal sealed class CountingTimeProvider : TimeProvider
{
    private long _callbacks;

    public long Callbacks => Interlocked.Read(ref _callbacks);

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period) =>
        System.CreateTimer(
            s =>
            {
                Interlocked.Increment(ref _callbacks);
                callback(s);
            },
            state,
            dueTime,
            period);
}
