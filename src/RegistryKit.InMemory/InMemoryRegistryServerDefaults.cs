namespace RegistryKit.InMemory;

/// <summary>The defaults of <see cref="InMemoryRegistryServerOptions"/>, pinned by a test.</summary>
internal static class InMemoryRegistryServerDefaults
{
    /// <summary>The most entries (registrations) a server holds.</summary>
    public const int MaxEntries = 100_000;

    /// <summary>The most sessions open at once.</summary>
    public const int MaxSessions = 10_000;

    /// <summary>The most watches open at once.</summary>
    public const int MaxWatches = 10_000;

    /// <summary>The longest key, in characters.</summary>
    public const int MaxKeyLength = 4_096;

    /// <summary>The longest value, in characters: the length of the longest <see cref="ServiceUrl"/>.</summary>
    public const int MaxValueLength = ServiceUrl.MaxLength;

    /// <summary>The shortest session TTL granted; shorter requests are raised to it (etcd's is 2 s).</summary>
    public static readonly TimeSpan MinSessionTtl = TimeSpan.FromSeconds(1);
}
