namespace RegistryKit.Discovery;

/// <summary>
/// How a worker asks its servers about its app: the small adapter a host writes for its own server protocol (PowerJob's
/// <c>/server/assert</c> and <c>/server/acquire</c>). RegistryKit does the rest: retries, timeouts, shuffling, the
/// periodic rounds, confirming the answer and deciding when the server is lost.
/// </summary>
/// <remarks>
/// Throw on a failed call (any exception but a cancellation of the given token counts as a failure of that server).
/// Every call runs under <see cref="ServerDiscoveryOptions.CallTimeout"/>; honour the token so a hung call ends.
/// </remarks>
public interface IServerDiscoveryClient
{
    /// <summary>Asks <paramref name="server"/> whether <paramref name="appName"/> is registered.</summary>
    /// <param name="server">The server's address, as configured.</param>
    /// <param name="appName">The app this worker belongs to.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The server's answer.</returns>
    ValueTask<AppAssertion> AssertAppAsync(string server, string appName, CancellationToken cancellationToken);

    /// <summary>Asks <paramref name="server"/> which server is responsible for the app now.</summary>
    /// <param name="server">The server asked.</param>
    /// <param name="appId">The app's id, as <see cref="AssertAppAsync"/> returned it.</param>
    /// <param name="currentServer">The server this worker follows now, or <see langword="null"/> when it has none.</param>
    /// <param name="cancellationToken">Cancels the call.</param>
    /// <returns>The address of the responsible server. It is adopted only once that server names itself.</returns>
    ValueTask<string> AcquireServerAsync(string server, string appId, string? currentServer, CancellationToken cancellationToken);
}
