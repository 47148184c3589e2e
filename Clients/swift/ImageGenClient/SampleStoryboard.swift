/// The storyboard `imagegen demo` renders: three shots with hard cuts and continuity.
public enum SampleStoryboard {
    public static let json = """
        {"shots": [
          {"id": "1", "beats": [
            {"id": "1.1", "prompt": "A lighthouse on a cliff at dusk, waves breaking below", "transition": "hard_cut"},
            {"id": "1.2", "prompt": "The lighthouse beam sweeps across the dark sea", "transition": "continue"},
            {"id": "1.3", "prompt": "A small fishing boat appears in the beam", "transition": "continue"}]},
          {"id": "2", "beats": [
            {"id": "2.1", "prompt": "Inside the lighthouse, a keeper climbs a spiral staircase with a lantern", "transition": "hard_cut"},
            {"id": "2.2", "prompt": "The keeper reaches the lamp room and looks out of the window", "transition": "continue"},
            {"id": "2.3", "prompt": "Close-up of the keeper's weathered hands on the brass rail", "transition": "cut"}]},
          {"id": "3", "beats": [
            {"id": "3.1", "prompt": "Dawn over the harbour, the boat tied up safely", "transition": "hard_cut"},
            {"id": "3.2", "prompt": "Gulls circle above the harbour in the morning light", "transition": "continue"},
            {"id": "3.3", "prompt": "The lighthouse seen from the harbour, its lamp going dark", "transition": "cut"}]}
        ]}
        """
}
