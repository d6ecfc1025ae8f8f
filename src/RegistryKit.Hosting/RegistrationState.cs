namespace RegistryKit.Hosting;

/// <summary>Where a hosted registration stands.</summary>
public enum RegistrationState
{
    /// <summary>Not registered yet: the host has not started, or the registration is being made.</summary>
    Pending,

    /// <summary>
    /// Registered: the registry client holds the registration and keeps it (retrying in the background while the
    /// registry is down; the health check tells whether it is reachable).
    /// </summary>
    Registered,

    /// <summary>Deregistered on purpose by <see cref="ServiceRegistrations.GoOfflineAsync"/>, until <see cref="ServiceRegistrations.GoOnlineAsync"/>.</summary>
    Offline,

    /// <summary>Failed for good (a bad address, a refused registration): the error is logged and kept in <see cref="ServiceRegistrationStatus.Error"/>.</summary>
    Failed,

    /// <summary>Deregistered because the host stopped.</summary>
    Deregistered,
}
