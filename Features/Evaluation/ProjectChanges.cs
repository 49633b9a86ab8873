namespace FlagService.Features.Evaluation;

// The one place every configuration write reports to. Management slices call Publish after their
// write commits, so that this instance's evaluation snapshots are dropped before the response goes
// out; other instances hear of the same change through the database trigger's NOTIFY.
public sealed class ProjectChanges
{
    private volatile Action<Guid>[] _projectListeners = [];
    private volatile Action[] _resetListeners = [];
    private readonly Lock _gate = new();

    public void Subscribe(Action<Guid> onProjectChanged, Action onEverythingChanged)
    {
        lock (_gate)
        {
            _projectListeners = [.. _projectListeners, onProjectChanged];
            _resetListeners = [.. _resetListeners, onEverythingChanged];
        }
    }

    public void Publish(Guid projectId)
    {
        foreach (var listener in _projectListeners)
        {
            listener(projectId);
        }
    }

    // After a lost LISTEN connection: notifications may have been missed, so nothing cached is trusted.
    public void PublishEverythingChanged()
    {
        foreach (var listener in _resetListeners)
        {
            listener();
        }
    }
}
