namespace RegistryKit.Masters;

/// <summary>What a master answered to a worker's registration (Spark's RegisteredWorker, RegisterWorkerFailed, MasterInStandby).</summary>
public enum MasterRegistrationResponse
{
    /// <summary>Registered with the active master.</summary>
    Registered,

    /// <summary>
    /// Registered, but the master already knew this worker id (a retry after a network blip). Treated as success with a
    /// warning: SPARK-23191, where workers exited on "Duplicate worker ID".
    /// </summary>
    RegisteredDuplicate,

    /// <summary>The master refused the worker: terminal before the first successful registration, ignored after it.</summary>
    Refused,

    /// <summary>The master is a standby; the answer is ignored.</summary>
    Standby,
}
