namespace RegistryKit.Registry;

/// <summary>The defaults of <see cref="RegistryOptions"/>, in one place a test pins.</summary>
internal static class RegistryDefaults
{
    /// <summary>Dubbo's retry period.</summary>
    public static readonly TimeSpan RetryPeriod = TimeSpan.FromSeconds(5);

    /// <summary>The cap of the exponential backoff: twelve retry periods.</summary>
    public static readonly TimeSpan MaxRetryDelay = TimeSpan.FromMinutes(1);

    /// <summary>Each retry delay is stretched by up to this fraction, so retries that failed together do not return together.</summary>
    public const double RetryJitter = 0.2;

    /// <summary>At most this many retries run at once; the others wait their turn, spread out.</summary>
    public const int MaxConcurrentRetries = 8;

    /// <summary>etcd clients commonly use 10–15 s leases; 15 s with heartbeats every 5 s tolerates two lost heartbeats.</summary>
    public static readonly TimeSpan SessionTtl = TimeSpan.FromSeconds(15);

    /// <summary>Dubbo's default: a failing call throws unless the URL or the registry says <c>check=false</c>.</summary>
    public const bool Check = true;

    /// <summary>Off, as in Dubbo: an emptied providers category is passed on.</summary>
    public const bool EmptyProtection = false;

    /// <summary>How long disposal spends unregistering before it gives up and lets the session expire.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(5);

    /// <summary>On: subscribers are served from disk while the registry is down.</summary>
    public const bool CacheEnabled = true;

    /// <summary>Consecutive failed heartbeats after which the session is treated as lost.</summary>
    public const int HeartbeatFailureThreshold = 3;
}
