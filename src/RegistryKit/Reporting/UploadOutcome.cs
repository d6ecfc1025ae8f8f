namespace RegistryKit.Reporting;

/// <summary>What became of a batch an <see cref="IBatchUploader{T}"/> was given.</summary>
public enum UploadOutcome
{
    /// <summary>
    /// There was no server to take it: the batch stays queued, first in line for the next flush. The default, so an
    /// uploader that forgets to answer loses nothing.
    /// </summary>
    NoServer = 0,

    /// <summary>The server took the batch; it leaves the queue.</summary>
    Uploaded = 1,
}
