using RegistryKit.Internal;

namespace RegistryKit.Registry;

/// <summary>Settings of a registry client.</summary>
public sealed class RegistryOptions
{
    /// <summary>
    /// Gets or sets the address of the registry to use, such as <c>memory://</c> or <c>etcd://10.0.0.1:2379</c>, for
    /// <see cref="RegistryFactory.GetRegistryAsync(CancellationToken)"/> and the hosted registration. It may hold
    /// credentials (<c>etcd://user:password@host:2379</c>); they are never logged or shown.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: no default registry; <c>UseInMemory()</c> sets <c>memory://</c> when
    /// nothing else is set. A registry URL when set.
    /// </value>
    public string? Address { get; set; }

    /// <summary>Gets or sets the delay before the first retry of a failed operation.</summary>
    /// <value>The default is 5 seconds (Dubbo's). Positive.</value>
    public TimeSpan RetryPeriod { get; set; } = RegistryDefaults.RetryPeriod;

    /// <summary>Gets or sets the longest delay between retries; delays double from <see cref="RetryPeriod"/> up to it.</summary>
    /// <value>The default is 1 minute. Not below <see cref="RetryPeriod"/>.</value>
    public TimeSpan MaxRetryDelay { get; set; } = RegistryDefaults.MaxRetryDelay;

    /// <summary>Gets or sets how much a retry delay may be stretched at random (0.2 = up to 20 % longer).</summary>
    /// <value>The default is 0.2. From 0 to 1.</value>
    public double RetryJitter { get; set; } = RegistryDefaults.RetryJitter;

    /// <summary>Gets or sets how many retries may run at once, so that a registry coming back is not stormed.</summary>
    /// <value>The default is 8. Positive.</value>
    public int MaxConcurrentRetries { get; set; } = RegistryDefaults.MaxConcurrentRetries;

    /// <summary>
    /// Gets or sets how many times a failed operation is retried; <see langword="null"/> retries until it succeeds or is
    /// undone. Giving up loses registrations (Dubbo's old limit of 3 did: #291, #6810, #12593), so leave it unset.
    /// </summary>
    /// <value>The default is <see langword="null"/>: never give up. Positive when set.</value>
    public int? MaxRetries { get; set; }

    /// <summary>Gets or sets the session TTL asked of the registry.</summary>
    /// <value>The default is 15 seconds. Positive.</value>
    public TimeSpan SessionTtl { get; set; } = RegistryDefaults.SessionTtl;

    /// <summary>
    /// Gets or sets how often a heartbeat keeps the session alive; <see langword="null"/> for what the transport asks
    /// (a third of the TTL for the in-memory and etcd transports). Ignored for a session whose granted TTL it does not fit in.
    /// </summary>
    /// <value>The default is <see langword="null"/>. Positive and below <see cref="SessionTtl"/> when set.</value>
    public TimeSpan? HeartbeatInterval { get; set; }

    /// <summary>Gets or sets whether failing calls throw instead of retrying in the background (a URL's <c>check=false</c> overrides it).</summary>
    /// <value>The default is <see langword="true"/>, as in Dubbo.</value>
    public bool Check { get; set; } = RegistryDefaults.Check;

    /// <summary>Gets or sets whether an emptied providers category is held back, keeping the last non-empty list (Dubbo #9213).</summary>
    /// <value>The default is <see langword="false"/>.</value>
    public bool EmptyProtection { get; set; } = RegistryDefaults.EmptyProtection;

    /// <summary>Gets or sets how long disposal spends unregistering and closing the session.</summary>
    /// <value>The default is 5 seconds. Not negative.</value>
    public TimeSpan ShutdownTimeout { get; set; } = RegistryDefaults.ShutdownTimeout;

    /// <summary>Gets or sets after how many consecutive failed heartbeats the session is treated as lost.</summary>
    /// <value>The default is 3. Positive.</value>
    public int HeartbeatFailureThreshold { get; set; } = RegistryDefaults.HeartbeatFailureThreshold;

    /// <summary>Gets or sets whether what subscribers were told is kept on disk, to serve them while the registry is down.</summary>
    /// <value>The default is <see langword="true"/>.</value>
    public bool CacheEnabled { get; set; } = RegistryDefaults.CacheEnabled;

    /// <summary>
    /// Gets or sets the folder of the cache files (one per application and registry). Created owner-only on Unix.
    /// </summary>
    /// <value>
    /// The default is <see langword="null"/>: <c>RegistryKit/cache</c> under the user's local application data
    /// (<c>~/.local/share</c> on Linux, <c>%LOCALAPPDATA%</c> on Windows), never the working directory.
    /// </value>
    public string? CacheDirectory { get; set; }

    /// <summary>Throws when a setting is out of range, naming it and the range.</summary>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of range.</exception>
    public void Validate()
    {
        foreach ((string name, object? value, string rule) in Failures())
        {
            OptionsGuard.Throw(nameof(RegistryOptions), name, value, rule);
        }
    }

    /// <summary>Every setting out of range: its name, its value and the rule it breaks.</summary>
    internal IEnumerable<(string Name, object? Value, string Rule)> Failures()
    {
        if (Address is not null && !ServiceUrl.TryParse(Address, out _, out string? error))
        {
            // Shown redacted: an address may hold a password.
            yield return (nameof(Address), new RedactedValue(ServiceUrl.QuoteRedacted(Address)), $"must be a registry address such as 'memory://' or 'etcd://127.0.0.1:2379': {error.TrimEnd('.')}");
        }

        if (!(RetryPeriod > TimeSpan.Zero))
        {
            yield return (nameof(RetryPeriod), RetryPeriod, "must be positive");
        }

        if (!(MaxRetryDelay >= RetryPeriod))
        {
            yield return (nameof(MaxRetryDelay), MaxRetryDelay, $"must not be below RetryPeriod ({RetryPeriod})");
        }

        if (!(RetryJitter is >= 0 and <= 1))
        {
            yield return (nameof(RetryJitter), RetryJitter, "must be from 0 to 1");
        }

        if (!(MaxConcurrentRetries > 0))
        {
            yield return (nameof(MaxConcurrentRetries), MaxConcurrentRetries, "must be positive");
        }

        if (!(MaxRetries is null or > 0))
        {
            yield return (nameof(MaxRetries), MaxRetries, "must be positive, or null to retry until success");
        }

        if (!(SessionTtl > TimeSpan.Zero))
        {
            yield return (nameof(SessionTtl), SessionTtl, "must be positive");
        }

        if (!(HeartbeatInterval is null || (HeartbeatInterval > TimeSpan.Zero && HeartbeatInterval < SessionTtl)))
        {
            yield return (nameof(HeartbeatInterval), HeartbeatInterval, $"must be positive and below SessionTtl ({SessionTtl}), or null for the transport's interval");
        }

        if (!(ShutdownTimeout >= TimeSpan.Zero))
        {
            yield return (nameof(ShutdownTimeout), ShutdownTimeout, "must not be negative");
        }

        if (!(CacheDirectory is null || CacheDirectory.Trim().Length > 0))
        {
            yield return (nameof(CacheDirectory), CacheDirectory, "must be null (the default folder) or a folder path");
        }

        if (!(HeartbeatFailureThreshold > 0))
        {
            yield return (nameof(HeartbeatFailureThreshold), HeartbeatFailureThreshold, "must be positive");
        }
    }

    /// <summary>A value already made safe to show.</summary>
    private sealed record RedactedValue(string Text)
    {
        public override string ToString() => $"'{Text}'";
    }
}
