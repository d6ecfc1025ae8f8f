namespace RegistryKit.Reporting;

/// <summary>The defaults of <see cref="HealthReporterOptions"/> and <see cref="UploadQueueOptions"/>: PowerJob worker's numbers, pinned by a test.</summary>
internal static class ReportingDefaults
{
    /// <summary>PowerJob sends a health report every 10 seconds (10–15 s in practice, as its loop sleeps after the work).</summary>
    public static readonly TimeSpan ReportInterval = TimeSpan.FromSeconds(10);

    /// <summary>PowerJob's log upload queue holds 10,240 lines.</summary>
    public const int QueueCapacity = 10_240;

    /// <summary>PowerJob flushes its log queue every 5 seconds.</summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromSeconds(5);

    /// <summary>PowerJob flushes at once when more than 1,024 lines are queued.</summary>
    public const int FlushThreshold = 1_024;

    /// <summary>PowerJob uploads 20 lines per request.</summary>
    public const int BatchSize = 20;

    /// <summary>Not PowerJob's (it has no final flush): long enough for one or two requests, short enough for a shutdown.</summary>
    public static readonly TimeSpan FinalFlushTimeout = TimeSpan.FromSeconds(5);

    /// <summary>The longest final flush allowed: a shutdown should not wait longer.</summary>
    public static readonly TimeSpan MaxFinalFlushTimeout = TimeSpan.FromHours(1);
}
