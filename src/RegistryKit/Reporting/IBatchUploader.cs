namespace RegistryKit.Reporting;

/// <summary>Sends batches of queued items (health reports, log lines) to a server for an <see cref="UploadQueue{T}"/>.</summary>
/// <typeparam name="T">The items.</typeparam>
public interface IBatchUploader<in T>
{
    /// <summary>Uploads one batch. Never called again while an upload is running.</summary>
    /// <param name="batch">The items, oldest first; a new list each time, which the uploader may keep.</param>
    /// <param name="cancellationToken">Cancelled when the queue's final flush runs out of time.</param>
    /// <returns>
    /// <see cref="UploadOutcome.Uploaded"/> when the server took the batch, <see cref="UploadOutcome.NoServer"/> when
    /// there is no server now. An exception counts as a failed upload; either way the batch is kept and retried first.
    /// </returns>
    ValueTask<UploadOutcome> UploadAsync(IReadOnlyList<T> batch, CancellationToken cancellationToken);
}
