import ClipKitCore
import Testing

/// A clip of `frames` frames at `fps` with an AAC track of `sound` seconds (nil: silent).
func talkingClip(frames: Int, fps: Int = 30, sound: Double?) -> MediaInfo {
    var info = clip(frames: frames, fps: fps)
    info.audio = sound.map { AudioInfo(codec: "aac", sampleRate: 48_000, channels: 2, duration: $0) }
    return info
}

/// s2v: a clip whose length and bill follow the voice sent, judged by the same as-billed rule.
@Suite("the as-billed rule for s2v: the voice sets the length, the sound must cover the picture")
struct S2VRuleTests {
    let rule = AsBilledRule()

    @Test("a 10.23 s voice: 307 frames (10.233 s) billed 10.23 s is as billed, fractional seconds and all")
    func fractionalAsBilled() {
        let info = talkingClip(frames: 307, sound: 10.23)
        #expect(rule.length(of: info, billedSeconds: 10.23, inputSeconds: 10.23) == .asBilled)
        // The clip's own length, 10.2333 s, one frame either side of the voice: both as billed.
        #expect(rule.length(of: talkingClip(frames: 306, sound: 10.2), billedSeconds: 10.23, inputSeconds: 10.23) == .asBilled)
        #expect(AsBilledRule(acceptsLonger: false).length(of: info, billedSeconds: 10.23, inputSeconds: 10.23) == .asBilled)
    }

    @Test("billed beyond the voice: the extra seconds, even when the clip is as long as the bill")
    func beyondInput() {
        // A 12 s clip billed 12 s for a 10.23 s voice: the bill follows the padding, not the voice.
        let verdict = rule.length(of: talkingClip(frames: 360, sound: 12), billedSeconds: 12, inputSeconds: 10.23)
        guard case .beyondInput(let extra) = verdict else {
            Issue.record("expected beyondInput, got \(verdict)")
            return
        }
        #expect(abs(extra - 1.77) < 1e-9)
        // Within one frame of the voice is as billed: 10.23 + 1/30 covers a bill of 10.26.
        #expect(rule.length(of: talkingClip(frames: 308, sound: 10.26), billedSeconds: 10.26, inputSeconds: 10.23) == .asBilled)
        #expect(rule.length(of: talkingClip(frames: 308, sound: 10.27), billedSeconds: 10.27, inputSeconds: 10.23) != .asBilled)
    }

    @Test("a clip cut short: the missing seconds are what neither the clip nor the voice supports")
    func short() {
        // 257 frames (8.567 s) billed for a 10.23 s voice.
        guard case .short(let missing) = rule.length(of: talkingClip(frames: 257, sound: 8.567), billedSeconds: 10.23,
                                                     inputSeconds: 10.23) else {
            Issue.record("257 frames are short of 10.23 s")
            return
        }
        #expect(abs(missing - (10.23 - 257.0 / 30)) < 1e-9)
        // Billed 12 s for a 10.23 s voice and delivered 11 s: 1.77 s is unsupported, not just the 1 s the clip lacks.
        guard case .short(let unsupported) = rule.length(of: talkingClip(frames: 330, sound: 11), billedSeconds: 12,
                                                         inputSeconds: 10.23) else {
            Issue.record("11 s are short of 12 s")
            return
        }
        #expect(abs(unsupported - 1.77) < 1e-9)
    }

    @Test("the soundtrack: missing, short beyond a frame, or as long as the picture")
    func soundtrack() {
        #expect(rule.soundtrack(of: talkingClip(frames: 307, sound: nil)) == .missing)
        #expect(rule.soundtrack(of: talkingClip(frames: 307, sound: 10.23)) == .asBilled)
        #expect(rule.soundtrack(of: talkingClip(frames: 307, sound: 10.21)) == .asBilled, "20 ms short is within a frame")
        guard case .short(let uncovered) = rule.soundtrack(of: talkingClip(frames: 307, sound: 8.6)) else {
            Issue.record("8.6 s of sound do not cover 10.233 s of video")
            return
        }
        #expect(abs(uncovered - (307.0 / 30 - 8.6)) < 1e-9)
        // A voice that runs past the picture is the length check's business, not the soundtrack's.
        #expect(rule.soundtrack(of: talkingClip(frames: 102, sound: 4)) == .asBilled)
        var unknown = talkingClip(frames: 102, sound: nil)
        unknown.audio = AudioInfo(codec: "aac", sampleRate: 48_000, channels: 2, duration: nil)
        #expect(rule.soundtrack(of: unknown) == .unmeasured)
    }

    @Test("ClipRequirements: a voice's clip must be as long as the voice either way and carry it")
    func requirements() {
        var voice = ClipRequirements(duration: 3.4, rule: AsBilledRule(acceptsLonger: false), audio: true,
                                     soundtrackCoversVideo: true)
        #expect(voice.failures(of: talkingClip(frames: 102, sound: 3.4)).isEmpty)
        #expect(voice.failures(of: talkingClip(frames: 110, sound: 3.4)).map(\.property) == [.duration, .audio],
                "a clip longer than its voice, the end silent")
        let silent = voice.failures(of: talkingClip(frames: 102, sound: nil))
        #expect(silent.map(\.description) == ["audio: expected yes, got no"], "one line for a missing track")
        voice.audio = nil
        #expect(voice.failures(of: talkingClip(frames: 102, sound: nil)).map(\.description)
                == ["audio: expected sound for the whole video, got no audio track"])
        #expect(voice.failures(of: talkingClip(frames: 102, sound: 2)).map(\.description)
                == ["audio: expected sound for the whole 3.4 s of video, got 2 s of sound"])
    }
}
