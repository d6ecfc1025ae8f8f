namespace RegistryKit.Discovery;

/// <summary>What a <see cref="ServerDiscovery"/> tells its host. Calls are never made under its lock, nor after it is disposed.</summary>
public interface IServerDiscoveryListener
{
    /// <summary>The server responsible for the app changed (or was found after none was known).</summary>
    /// <param name="previousServer">The server followed until now, or <see langword="null"/>.</param>
    /// <param name="currentServer">The server that confirmed it is responsible.</param>
    void OnServerChanged(string? previousServer, string currentServer);

    /// <summary>
    /// The current server was not confirmed for <see cref="ServerDiscoveryOptions.LostAfterFailedRounds"/> rounds in a row:
    /// stop the work only that server may run (PowerJob stops its frequent tasks, which the server hands to other workers).
    /// Discovery carries on and reports <see cref="OnServerChanged"/> when a server confirms again.
    /// </summary>
    /// <param name="lostServer">The server that was lost.</param>
    /// <param name="failedRounds">How many rounds failed in a row.</param>
    void OnServerLost(string lostServer, int failedRounds);

    /// <summary>
    /// A server answered, after a lazy start, that the app is not registered. Discovery stops: this is a configuration error.
    /// </summary>
    /// <param name="server">The server that answered.</param>
    /// <param name="reason">Its explanation, if any.</param>
    void OnAppNotRegistered(string server, string? reason);
}
