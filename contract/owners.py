"""The owner reference that ties a run's objects to their scenario, built in one place."""

from __future__ import annotations

from typing import Any

from . import names


def owner_reference(*, name: str, uid: str, blocks_deletion: bool) -> dict[str, Any]:
    """Make the scenario ``name`` (``uid``) the controller owner: its children go when it goes.

    ``blocks_deletion`` sets ``blockOwnerDeletion``: a foreground deletion of the scenario
    then waits for the child. Clusters that enforce owner-reference permissions
    (the OwnerReferencesPermissionEnforcement admission plugin) require whoever sets it
    to be allowed ``update`` on ``chaosscenarios/finalizers``: the operator is, the
    runner's account (the chart's, or the user's own) need not be.
    """
    return {
        "apiVersion": f"{names.GROUP}/{names.VERSION}",
        "kind": names.KIND,
        "name": name,
        "uid": uid,
        "controller": True,
        "blockOwnerDeletion": blocks_deletion,
    }
