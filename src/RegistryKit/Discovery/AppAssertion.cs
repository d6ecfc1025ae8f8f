namespace RegistryKit.Discovery;

/// <summary>A server's answer to <see cref="IServerDiscoveryClient.AssertAppAsync"/>.</summary>
public sealed class AppAssertion
{
    private AppAssertion(string? appId, string? reason)
    {
        AppId = appId;
        Reason = reason;
    }

    /// <summary>Gets whether the server knows the app.</summary>
    public bool IsRegistered => AppId is not null;

    /// <summary>Gets the app's id when it is registered; otherwise <see langword="null"/>.</summary>
    public string? AppId { get; }

    /// <summary>Gets the server's explanation when the app is not registered; otherwise <see langword="null"/>.</summary>
    public string? Reason { get; }

    /// <summary>The server knows the app.</summary>
    /// <param name="appId">The app's id, passed to <see cref="IServerDiscoveryClient.AcquireServerAsync"/>.</param>
    /// <returns>The answer.</returns>
    /// <exception cref="ArgumentException"><paramref name="appId"/> is null, empty or whitespace.</exception>
    public static AppAssertion Registered(string appId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(appId);
        return new AppAssertion(appId, null);
    }

    /// <summary>The server does not know the app: a terminal answer (a configuration error, not an outage).</summary>
    /// <param name="reason">The server's explanation, if it gave one.</param>
    /// <returns>The answer.</returns>
    public static AppAssertion NotRegistered(string? reason = null) => new(null, reason);

    /// <inheritdoc/>
    public override string ToString() => IsRegistered ? $"registered as '{AppId}'" : $"not registered ({Reason ?? "no reason given"})";
}
