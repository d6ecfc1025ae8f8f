using RegistryKit.Internal;

namespace RegistryKit.Reporting;

/// <summary>Settings of an <see cref="UploadQueue{T}"/>; every number but the final flush's is PowerJob's by default.</summary>
public sealed class UploadQueueOptions
{
    /// <summary>Gets or sets how many items the queue holds; past it, the oldest are dropped (and counted).</summary>
    /// <value>The default is 10,240. Positive.</value>
    public int Capacity { get; set; } = ReportingDefaults.QueueCapacity;

    /// <summary>Gets or sets how often the queue is flushed (at a fixed rate, from the queue's creation).</summary>
    /// <value>The default is 5 seconds. Positive.</value>
    public TimeSpan FlushInterval { get; set; } = ReportingDefaults.FlushInterval;

    /// <summary>
    /// Gets or sets how many queued items start a flush at once (within one tick of the timer) when one more is
    /// added: a flush starts when more than this many are queued.
    /// </summary>
    /// <value>The default is 1,024. From 0 to <see cref="Capacity"/>; <see cref="Capacity"/> turns the early flush off.</value>
    public int FlushThreshold { get; set; } = ReportingDefaults.FlushThreshold;

    /// <summary>Gets or sets how many items go in one upload.</summary>
    /// <value>The default is 20. Positive.</value>
    public int BatchSize { get; set; } = ReportingDefaults.BatchSize;

    /// <summary>Gets or sets how long disposing the queue waits for its final flush; what is left then is counted and logged.</summary>
    /// <value>The default is 5 seconds. From zero (no final flush) to one hour.</value>
    public TimeSpan FinalFlushTimeout { get; set; } = ReportingDefaults.FinalFlushTimeout;

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        OptionsGuard.Require(nameof(UploadQueueOptions), Capacity > 0, nameof(Capacity), Capacity, "must be positive");
        OptionsGuard.Require(nameof(UploadQueueOptions), FlushInterval > TimeSpan.Zero, nameof(FlushInterval), FlushInterval, "must be positive");
        OptionsGuard.Require(nameof(UploadQueueOptions), FlushThreshold >= 0 && FlushThreshold <= Capacity, nameof(FlushThreshold), FlushThreshold, "must be from 0 to Capacity (Capacity turns the early flush off)");
        OptionsGuard.Require(nameof(UploadQueueOptions), BatchSize > 0, nameof(BatchSize), BatchSize, "must be positive");
        OptionsGuard.Require(nameof(UploadQueueOptions), FinalFlushTimeout >= TimeSpan.Zero && FinalFlushTimeout <= ReportingDefaults.MaxFinalFlushTimeout, nameof(FinalFlushTimeout), FinalFlushTimeout, "must be from zero to one hour");
    }
}
