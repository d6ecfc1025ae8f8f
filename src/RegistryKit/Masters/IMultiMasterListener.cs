namespace RegistryKit.Masters;

/// <summary>What a <see cref="MultiMasterRegistration"/> tells its host.</summary>
public interface IMultiMasterListener
{
    /// <summary>
    /// The worker registered with <paramref name="masterAddress"/>, now its active master. Send the master what it needs
    /// to reconcile (Spark's WorkerLatestState: the work this worker runs) from here.
    /// </summary>
    /// <param name="masterAddress">The active master.</param>
    /// <param name="duplicate">Whether the master already knew this worker id.</param>
    /// <param name="cancellationToken">Signalled when this registration ends (the worker registers again, or is disposed); the report is then abandoned.</param>
    /// <returns>A task that completes when the report was sent.</returns>
    ValueTask OnRegisteredAsync(string masterAddress, bool duplicate, CancellationToken cancellationToken);

    /// <summary>A master refused the worker before it ever registered; registration has stopped.</summary>
    /// <param name="masterAddress">The master that refused.</param>
    void OnRefused(string masterAddress);

    /// <summary>Every attempt failed; registration has stopped. The host decides what to do (Spark exits the process).</summary>
    /// <param name="attempts">How many attempts were made.</param>
    void OnGaveUp(int attempts);
}
