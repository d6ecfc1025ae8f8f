namespace RegistryKit.Registry;

/// <summary>How many failed operations of each kind are waiting to be retried.</summary>
/// <param name="Register">Registrations waiting to be retried.</param>
/// <param name="Unregister">Unregistrations waiting to be retried.</param>
/// <param name="Subscribe">Subscriptions waiting to be retried.</param>
/// <param name="Unsubscribe">Unsubscriptions waiting to be retried.</param>
public readonly record struct PendingRetries(int Register, int Unregister, int Subscribe, int Unsubscribe)
{
    /// <summary>Gets the total.</summary>
    public int Total => Register + Unregister + Subscribe + Unsubscribe;
}
