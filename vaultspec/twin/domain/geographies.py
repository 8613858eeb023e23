"""Azure geographies of Azure regions: Key Vault restores a backup only within the geography it was made in.

Key Vault's REST reference (keys.json 7.6, Backup Key): "BACKUP / RESTORE can be performed within
geographical boundaries only; meaning that a BACKUP from one geographical area cannot be restored to
another geographical area." The table is "Azure regional pairs" and "regions that don't have a region
pair" of MicrosoftDocs/azure-docs `articles/reliability/cross-region-replication-azure.md` @00f4e57d
(each row's geography holds both regions of the pair, except Brazil South's pair South Central US, which
that page says lies outside Brazil). Regions are written as there and compared as ARM names them
(lowercase, no spaces: "West Europe" -> westeurope). A region the table does not name (a newer one, or
the twin's own `local`) is its own geography, so it restores only within itself.
"""

from __future__ import annotations

_SOURCE_TABLE: dict[str, tuple[str, ...]] = {
    "Asia-Pacific": ("East Asia", "Southeast Asia"),
    "Australia": ("Australia East", "Australia Southeast", "Australia Central", "Australia Central 2"),
    "Brazil": ("Brazil South", "Brazil Southeast"),
    "Canada": ("Canada Central", "Canada East"),
    "China": ("China North", "China East", "China North 2", "China East 2", "China North 3", "China East 3"),
    "Europe": ("North Europe", "West Europe"),
    "France": ("France Central", "France South"),
    "Germany": ("Germany West Central", "Germany North"),
    "India": ("Central India", "South India", "West India"),
    "Japan": ("Japan East", "Japan West"),
    "Korea": ("Korea Central", "Korea South"),
    "United States": (
        "East US",
        "West US",
        "East US 2",
        "Central US",
        "North Central US",
        "South Central US",
        "West US 2",
        "West Central US",
        "West US 3",
    ),
    "Norway": ("Norway East", "Norway West"),
    "South Africa": ("South Africa North", "South Africa West"),
    "Sweden": ("Sweden Central", "Sweden South"),
    "Switzerland": ("Switzerland North", "Switzerland West"),
    "UK": ("UK West", "UK South"),
    "United Arab Emirates": ("UAE North", "UAE Central"),
    "US Department of Defense": ("US DoD East", "US DoD Central"),
    "US Government": ("US Gov Arizona", "US Gov Texas", "US Gov Virginia"),
    "Qatar": ("Qatar Central",),
    "Poland": ("Poland Central",),
    "Israel": ("Israel Central",),
    "Italy": ("Italy North",),
    "Austria": ("Austria East",),
    "Spain": ("Spain Central",),
}


def location_name(location: str) -> str:
    """A location as ARM names it: "West Europe" -> "westeurope"."""
    return location.replace(" ", "").lower()


GEOGRAPHY_OF: dict[str, str] = {
    location_name(region): geography for geography, regions in _SOURCE_TABLE.items() for region in regions
}


def geography(location: str) -> str:
    """The Azure geography of a location; an unknown location is a geography of its own."""
    name = location_name(location)
    return GEOGRAPHY_OF.get(name, name)
