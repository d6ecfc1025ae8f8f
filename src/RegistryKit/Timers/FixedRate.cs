namespace RegistryKit.Timers;

/// <summary>Fixed-rate scheduling on the wheel: each slot is whole intervals after the previous deadline, so lateness never accumulates.</summary>
internal static class FixedRate
{
    /// <summary>
    /// Moves <paramref name="deadline"/> forward by whole intervals until it is after <paramref name="now"/> (slots that
    /// were missed entirely are skipped, not fired in a burst) and returns the delay until it.
    /// </summary>
    /// <param name="deadline">The previous deadline, in ticks of the caller's clock; updated to the next one.</param>
    /// <param name="interval">The interval, in the same ticks; positive.</param>
    /// <param name="now">The current time, in the same ticks.</param>
    /// <returns>The delay from now to the next deadline.</returns>
    public static TimeSpan Next(ref long deadline, long interval, long now)
    {
        // A zero interval would spin forever under the caller's lock; options validation keeps it out, this keeps it loud.
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(interval);
        do
        {
            deadline += interval;
        }
        while (deadline <= now);

        return TimeSpan.FromTicks(deadline - now);
    }
}
