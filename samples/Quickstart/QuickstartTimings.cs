using RegistryKit.Registry;

namespace RegistryKit.Samples.Quickstart;

/// <summary>How long the story's registry settings and phases are.</summary>
internal sealed record QuickstartTimings(TimeSpan SessionTtl, TimeSpan RetryPeriod, TimeSpan MaxRetryDelay, TimeSpan Outage, TimeSpan PhaseLimit)
{
    public static QuickstartTimings For(bool fast) => fast
        ? new(TimeSpan.FromSeconds(2), TimeSpan.FromMilliseconds(200), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20))
        : new(TimeSpan.FromSeconds(6), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(60));

    /// <summary>The registry client's options: short sessions and retries, so the story is quick to watch.</summary>
    public RegistryOptions Options(string? cacheDirectory) => new()
    {
        SessionTtl = SessionTtl,
        RetryPeriod = RetryPeriod,
        MaxRetryDelay = MaxRetryDelay,
        Check = false,
        CacheEnabled = cacheDirectory is not null,
        CacheDirectory = cacheDirectory,
    };
}
