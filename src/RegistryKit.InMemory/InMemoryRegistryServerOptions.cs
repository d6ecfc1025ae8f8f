namespace RegistryKit.InMemory;

/// <summary>Limits of an <see cref="InMemoryRegistryServer"/>, so that a runaway client cannot exhaust memory.</summary>
public sealed class InMemoryRegistryServerOptions
{
    /// <summary>Gets or sets the most entries (registrations) the server holds.</summary>
    /// <value>The default is 100,000. Positive.</value>
    public int MaxEntries { get; set; } = InMemoryRegistryServerDefaults.MaxEntries;

    /// <summary>Gets or sets the most sessions open at once.</summary>
    /// <value>The default is 10,000. Positive.</value>
    public int MaxSessions { get; set; } = InMemoryRegistryServerDefaults.MaxSessions;

    /// <summary>Gets or sets the most watches open at once.</summary>
    /// <value>The default is 10,000. Positive.</value>
    public int MaxWatches { get; set; } = InMemoryRegistryServerDefaults.MaxWatches;

    /// <summary>Gets or sets the longest key, in characters.</summary>
    /// <value>The default is 4,096. Positive.</value>
    public int MaxKeyLength { get; set; } = InMemoryRegistryServerDefaults.MaxKeyLength;

    /// <summary>Gets or sets the longest value, in characters.</summary>
    /// <value>The default is 65,536 (the length of the longest <see cref="ServiceUrl"/>). Positive.</value>
    public int MaxValueLength { get; set; } = InMemoryRegistryServerDefaults.MaxValueLength;

    /// <summary>Gets or sets the shortest session TTL the server grants; shorter requests are raised to it (etcd's is 2 s).</summary>
    /// <value>The default is 1 second. Positive.</value>
    public TimeSpan MinSessionTtl { get; set; } = InMemoryRegistryServerDefaults.MinSessionTtl;

    internal void Validate()
    {
        Positive(MaxEntries, nameof(MaxEntries));
        Positive(MaxSessions, nameof(MaxSessions));
        Positive(MaxWatches, nameof(MaxWatches));
        Positive(MaxKeyLength, nameof(MaxKeyLength));
        Positive(MaxValueLength, nameof(MaxValueLength));
        if (MinSessionTtl <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(
                "options",
                MinSessionTtl,
                $"InMemoryRegistryServerOptions.MinSessionTtl is {MinSessionTtl}; it must be positive.");
        }

        static void Positive(int value, string name)
        {
            if (value <= 0)
            {
                throw new ArgumentOutOfRangeException("options", value, $"InMemoryRegistryServerOptions.{name} is {value}; it must be positive.");
            }
        }
    }
}
